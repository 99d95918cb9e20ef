// Guards a fleet's FlexMatch backfill with the native provider (same stack as ../yaml).
//
// GameLift refuses DeleteMatchmakingConfiguration while any backfill ticket still references
// the configuration, and with BackfillMode AUTOMATIC GameLift itself starts those tickets for
// every game session that is not full. The guard finds and stops them all when it is deleted,
// and waits until none is active.
//
// Here the fleet and the matchmaking configuration already exist (their names come from
// config): pulumi-aws has no FlexMatch resources. When this program creates them itself (a
// dynamic resource, a provider of yours, pulumi-command running the AWS CLI...), pass them in
// `dependsOn` (see below), so that `pulumi destroy` deletes the guard, and drains every
// ticket, before them.
//
// `pulumi package add <path to pulumi-resource-gamelift-backfill>` generates a typed SDK
// (`new gameliftBackfill.BackfillGuard(...)`); this example uses the resource token
// directly so that it runs without the generation step.
import * as pulumi from "@pulumi/pulumi";

const config = new pulumi.Config();
const fleetId = config.require("fleetId");
const configurationName = config.require("configurationName");

interface BackfillGuardArgs {
    fleetIds: pulumi.Input<pulumi.Input<string>[]>;
    configurationName?: pulumi.Input<string>;
    stopTimeoutSeconds?: pulumi.Input<number>;
}

class BackfillGuard extends pulumi.CustomResource {
    declare readonly fleetIds: pulumi.Output<string[]>;
    declare readonly activeTicketCount: pulumi.Output<number>;

    constructor(name: string, args: BackfillGuardArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            "gamelift-backfill:index:BackfillGuard",
            name,
            { ...args, fleetIds: args.fleetIds, activeTicketCount: undefined },
            opts,
        );
    }
}

const guard = new BackfillGuard(
    "guard",
    {
        fleetIds: [fleetId],
        // Only the game sessions matched by this configuration are drained.
        configurationName,
        // How long destroy waits for the tickets to end (a ticket being placed cannot be
        // stopped, only waited out); `customTimeouts: { delete: "10m" }` bounds it instead.
        stopTimeoutSeconds: 120,
    },
    // With the configuration created in this program: { dependsOn: [configuration, fleet] }.
    {},
);

export const guardedFleets = guard.fleetIds;
export const activeTicketCount = guard.activeTicketCount;
