// A loopback stand-in for an Azure Service Bus namespace, reached the way the deployed app
// reaches the real one: AMQP 1.0 over TLS, SASL ANONYMOUS, then claims-based security (CBS):
// the client puts an Entra token on the "$cbs" node before it may send. A token is accepted
// when it has the shape Entra gives it (a JWT for https://servicebus.azure.net, issued by
// sts.windows.net, not expired); signatures are not checked (as Azurite's "basic" OAuth level).
// Every message accepted on a queue is appended as one JSON line to the messages file, so a
// test or a worker can take it from there as the Functions host would take it from the queue.
//
// usage: node standin.js --port N --cert PEM --key PEM --messages FILE
'use strict';
const fs = require('fs');
const rhea = require('rhea');

const AUDIENCE = 'https://servicebus.azure.net';
const ISSUER = 'https://sts.windows.net/';
const SCHEDULED = 'x-opt-scheduled-enqueue-time';

function option(name) {
  const at = process.argv.indexOf('--' + name);
  if (at < 0 || at + 1 >= process.argv.length) throw new Error('missing --' + name);
  return process.argv[at + 1];
}

// Why a CBS token is refused, or null when it is accepted.
function refusal(token) {
  const parts = String(token || '').split('.');
  if (parts.length !== 3) return 'not a JWT';
  let claims;
  try {
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch (e) {
    return 'unreadable claims';
  }
  if (String(claims.aud || '').replace(/\/$/, '') !== AUDIENCE) return 'wrong audience ' + claims.aud;
  if (!String(claims.iss || '').startsWith(ISSUER)) return 'wrong issuer ' + claims.iss;
  if (!(claims.exp * 1000 > Date.now())) return 'expired';
  return null;
}

function bodyText(body) {
  if (body && body.content !== undefined) body = body.content; // a data section
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  return typeof body === 'string' ? body : JSON.stringify(body);
}

function queueName(address) {
  return String(address || '').replace(/\/+$/, '').split('/').pop();
}

const messages = option('messages');
const container = rhea.create_container({ id: 'servicebus-standin', autoaccept: false });
container.sasl_server_mechanisms.enable_anonymous();

// Echo both termini of a link the client opens: the SDK detaches a link whose answer lacks one.
function echoTermini(link) {
  link.set_source(link.remote.attach.source || {});
  link.set_target(link.remote.attach.target || {});
}
container.on('receiver_open', (context) => echoTermini(context.receiver));
container.on('sender_open', (context) => echoTermini(context.sender));

// The answer goes back on the client's receiving link of the same node ("$cbs").
function cbsReply(context, request, status, description) {
  const node = context.receiver.target.address;
  const link = context.connection.find_sender((s) => s.source && s.source.address === node);
  if (!link) return;
  link.send({
    correlation_id: request.message_id,
    application_properties: { 'status-code': status, 'status-description': description },
  });
}

container.on('message', (context) => {
  const address = context.receiver.target && context.receiver.target.address;
  const message = context.message;
  if (address === '$cbs') {
    const problem = refusal(message.body);
    if (problem === null) context.connection.authorised = true;
    cbsReply(context, message, problem === null ? 202 : 401, problem || 'Accepted');
    context.delivery.accept();
    return;
  }
  if (!context.connection.authorised) {
    context.delivery.reject({ condition: 'amqp:unauthorized-access', description: 'no CBS token' });
    return;
  }
  const annotations = message.message_annotations || {};
  const record = {
    queue: queueName(address),
    message_id: message.message_id === undefined ? null : String(message.message_id),
    session_id: message.group_id === undefined ? null : message.group_id,
    subject: message.subject === undefined ? null : message.subject,
    scheduled: annotations[SCHEDULED] ? new Date(annotations[SCHEDULED]).toISOString() : null,
    body: bodyText(message.body),
  };
  fs.appendFileSync(messages, JSON.stringify(record) + '\n');
  context.delivery.accept();
});

const server = container.listen({
  transport: 'tls',
  host: '127.0.0.1',
  port: Number(option('port')),
  key: fs.readFileSync(option('key')),
  cert: fs.readFileSync(option('cert')),
});
server.on('listening', () => console.log('listening ' + server.address().port));
