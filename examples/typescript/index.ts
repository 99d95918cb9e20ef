// Guards a fleet's FlexMatch backfill: the engine deletes the guard (and so stops every
// backfill ticket of the fleet) before the matchmaking configuration it depends on.
//
// `pulumi package add <path to pulumi-resource-gamelift-backfill>` generates a typed SDK
// (`new gameliftBackfill.BackfillGuard(...)`); this example uses the resource token
// directly so that it runs without the generation step.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";

const config = new pulumi.Config();
const fleetId = config.require("fleetId");
const queueArn = config.require("queueArn");
const ruleSetName = config.get("ruleSetName") ?? "rules";
const configurationName = config.get("configurationName") ?? "example-backfill";

// pulumi-aws has no FlexMatch resources: the configuration is made with the AWS CLI.
// Its delete fails while any backfill ticket still references it.
const configuration = new command.local.Command("configuration", {
    create: [
        "aws gamelift create-matchmaking-configuration",
        `--name ${configurationName} --rule-set-name ${ruleSetName}`,
        "--request-timeout-seconds 120 --no-acceptance-required",
        "--flex-match-mode WITH_QUEUE --backfill-mode AUTOMATIC",
        `--game-session-queue-arns ${queueArn}`,
    ].join(" "),
    delete: `aws gamelift delete-matchmaking-configuration --name ${configurationName}`,
});

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
    { fleetIds: [fleetId], configurationName, stopTimeoutSeconds: 120 },
    // Deleted before the configuration: backfill is drained first.
    { dependsOn: [configuration] },
);

export const guardedFleets = guard.fleetIds;
export const activeTicketCount = guard.activeTicketCount;
