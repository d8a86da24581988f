// Parses each Adaptive Card (a JSON array on stdin) with the adaptivecards npm package and
// prints, per card, the parse and validation messages it reports.
const AC = require("adaptivecards/dist/adaptivecards.js");
const cards = JSON.parse(require("fs").readFileSync(0, "utf8"));
const report = cards.map((json) => {
  const card = new AC.AdaptiveCard();
  const context = new AC.SerializationContext();
  card.parse(json, context);
  const messages = [];
  for (let i = 0; i < context.eventCount; i++) messages.push(context.getEventAt(i).message);
  for (const issue of card.validateProperties().allIssues || []) messages.push(issue.message);
  return messages;
});
console.log(JSON.stringify(report));
