// Preloaded into the Agents Playground (node --require): its CLI has no host option and its
// servers listen on every interface; this binds each one that names no host to 127.0.0.1.
"use strict";
const net = require("net");

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const [first, second] = args;
  if (typeof first === "number" && typeof second !== "string") {
    args.splice(1, 0, "127.0.0.1"); // listen(port[, backlog][, callback])
  } else if (first && typeof first === "object" && "port" in first && !first.host) {
    args[0] = { ...first, host: "127.0.0.1" }; // listen({port, ...}[, callback])
  }
  return listen.apply(this, args);
};
