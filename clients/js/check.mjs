// The AWS SDK for JavaScript v3 against the emulator: node check.mjs <endpoint> <fleetId>
// Prints one JSON object of what the SDK parsed (tests/test_emulator_js_client.py reads it).
import {
  GameLiftClient,
  ListFleetsCommand,
  DescribeFleetAttributesCommand,
  CreateAliasCommand,
  ResolveAliasCommand,
  ListTagsForResourceCommand,
  CreateGameSessionCommand,
  CreatePlayerSessionsCommand,
  SearchGameSessionsCommand,
  DescribeGameSessionDetailsCommand,
  UpdateGameSessionCommand,
  StopMatchmakingCommand,
} from "@aws-sdk/client-gamelift";

const [endpoint, fleetId] = process.argv.slice(2);
const client = new GameLiftClient({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
  maxAttempts: 1,
});
const send = (command) => client.send(command);

const fleets = await send(new ListFleetsCommand({ Limit: 5 }));
const attributes = await send(new DescribeFleetAttributesCommand({ FleetIds: [fleetId] }));
const alias = await send(
  new CreateAliasCommand({
    Name: "js",
    RoutingStrategy: { Type: "SIMPLE", FleetId: fleetId },
    Tags: [{ Key: "sdk", Value: "js" }],
  }),
);
const resolved = await send(new ResolveAliasCommand({ AliasId: alias.Alias.AliasId }));
const tags = await send(new ListTagsForResourceCommand({ ResourceARN: alias.Alias.AliasArn }));
const session = await send(
  new CreateGameSessionCommand({ AliasId: alias.Alias.AliasId, MaximumPlayerSessionCount: 4, Name: "js-game" }),
);
const arn = session.GameSession.GameSessionId;
const players = await send(new CreatePlayerSessionsCommand({ GameSessionId: arn, PlayerIds: ["a", "b"] }));
const found = await send(
  new SearchGameSessionsCommand({ FleetId: fleetId, FilterExpression: "playerSessionCount = 2" }),
);
await send(new UpdateGameSessionCommand({ GameSessionId: arn, ProtectionPolicy: "FullProtection" }));
const details = await send(new DescribeGameSessionDetailsCommand({ GameSessionId: arn }));
let errorName = null;
try {
  await send(new StopMatchmakingCommand({ TicketId: "no-such-ticket" }));
} catch (error) {
  errorName = error.name;
}
console.log(
  JSON.stringify({
    fleetIds: fleets.FleetIds,
    fleetStatus: attributes.FleetAttributes[0].Status,
    resolvedFleetId: resolved.FleetId,
    tags: tags.Tags,
    creationTimeIsDate: session.GameSession.CreationTime instanceof Date,
    playerIds: players.PlayerSessions.map((p) => p.PlayerId),
    searched: found.GameSessions.map((s) => s.Name),
    protection: details.GameSessionDetails[0].ProtectionPolicy,
    errorName,
  }),
);
