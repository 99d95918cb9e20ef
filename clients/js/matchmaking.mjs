// The AWS SDK for JavaScript v3 on the matchmaking operations:
// node matchmaking.mjs <endpoint> <validRuleSetBody> <invalidRuleSetBody> <ticketId:playerId>...
// Validates both bodies, accepts each ticket's match for its player, and prints one JSON
// object of what the SDK parsed (tests/test_emulator_matchmaking_clients.py reads it).
import {
  GameLiftClient,
  ValidateMatchmakingRuleSetCommand,
  AcceptMatchCommand,
} from "@aws-sdk/client-gamelift";

const [endpoint, validBody, invalidBody, ...accepts] = process.argv.slice(2);
const client = new GameLiftClient({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
  maxAttempts: 1,
});

const valid = await client.send(new ValidateMatchmakingRuleSetCommand({ RuleSetBody: validBody }));
let invalid = null;
try {
  await client.send(new ValidateMatchmakingRuleSetCommand({ RuleSetBody: invalidBody }));
} catch (error) {
  invalid = { name: error.name, message: error.message };
}
for (const pair of accepts) {
  const [TicketId, PlayerId] = pair.split(":");
  await client.send(new AcceptMatchCommand({ TicketId, PlayerIds: [PlayerId], AcceptanceType: "ACCEPT" }));
}
console.log(JSON.stringify({ valid: valid.Valid, invalid, accepted: accepts.length }));
