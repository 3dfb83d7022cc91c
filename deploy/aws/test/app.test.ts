// Synthesises the CDK app offline and asserts the architecture the issue asks
// for. Run: npm test (tsc, then node --test). Expectations about names and
// alarm thresholds are read from deploy/names/names.json and
// deploy/alarms.json, the files the Go side reads too.
import { describe, test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as cdk from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import { buildApp } from "../bin/taskd";
import { loadAlarms, loadNames, Names } from "../lib/shared";

type Resources = Record<string, { Type: string; Properties?: any; DependsOn?: unknown }>;

// The templates are written where deploy/checks (Go) compares them with
// deploy/names.
const checkOut = path.join(__dirname, "..", "..", "cdk.out", "check");

function synth(context: Record<string, string>, outdir?: string) {
  const app = new cdk.App({ outdir: outdir ?? fs.mkdtempSync(path.join(os.tmpdir(), "taskd-cdk-")), context });
  const stacks = buildApp(app);
  app.synth();
  return {
    appStack: stacks.appStack,
    ciStack: stacks.ci,
    app: Template.fromStack(stacks.appStack),
    ci: Template.fromStack(stacks.ci),
  };
}

const names = loadNames();
const n = new Names(names.defaultEnv);
fs.rmSync(checkOut, { recursive: true, force: true });
const base = synth({ imageTag: "0123abc", emailFrom: "taskd@example.com", publicUrl: "https://taskd.example.com" }, checkOut);
const tpl = base.app.toJSON() as { Resources: Resources };

const ofType = (t: { Resources: Resources }, type: string) =>
  Object.entries(t.Resources).filter(([, r]) => r.Type === type);
const logicalId = (stack: cdk.Stack, c: any) => stack.getLogicalId(c.node.defaultChild as cdk.CfnElement);

describe("names shared with the binary (deploy/names/names.json)", () => {
  test("one SNS topic carries every event", () => {
    base.app.hasResourceProperties("AWS::SNS::Topic", { TopicName: n.eventsTopic });
  });

  for (const group of names.consumerGroups) {
    test(`queue ${n.queue(group)} dead-letters into ${n.dlq(group)} after ${names.maxReceiveCount} receives`, () => {
      const queues = ofType(tpl, "AWS::SQS::Queue");
      const dlq = queues.find(([, r]) => r.Properties.QueueName === n.dlq(group));
      const queue = queues.find(([, r]) => r.Properties.QueueName === n.queue(group));
      assert.ok(dlq && queue, "queue and DLQ exist");
      assert.deepEqual(queue![1].Properties.RedrivePolicy, {
        deadLetterTargetArn: { "Fn::GetAtt": [dlq![0], "Arn"] },
        maxReceiveCount: names.maxReceiveCount,
      });
      assert.equal(dlq![1].Properties.MessageRetentionPeriod, 14 * 24 * 3600);
      base.app.hasResourceProperties("AWS::SNS::Subscription", {
        Protocol: "sqs",
        Endpoint: { "Fn::GetAtt": [queue![0], "Arn"] },
        RawMessageDelivery: names.rawMessageDelivery,
      });
    });
  }

  test("no queue besides the consumer groups and their DLQs", () => {
    const want = names.consumerGroups.flatMap((g) => [n.queue(g), n.dlq(g)]).sort();
    const got = ofType(tpl, "AWS::SQS::Queue").map(([, r]) => r.Properties.QueueName).sort();
    assert.deepEqual(got, want);
  });

  for (const t of names.tables) {
    test(`table ${n.table(t)}: on demand, PITR, keys from names.json`, () => {
      const keySchema = [{ AttributeName: t.partitionKey, KeyType: "HASH" }];
      if (t.sortKey) keySchema.push({ AttributeName: t.sortKey, KeyType: "RANGE" });
      base.app.hasResourceProperties("AWS::DynamoDB::Table", {
        TableName: n.table(t),
        BillingMode: "PAY_PER_REQUEST",
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        KeySchema: keySchema,
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
        ...(t.ttlAttribute ? { TimeToLiveSpecification: { AttributeName: t.ttlAttribute, Enabled: true } } : {}),
      });
    });
  }

  test("another TASKD_ENV prefixes every name", () => {
    const other = synth({ taskdEnv: "staging", imageTag: "x" });
    other.app.hasResourceProperties("AWS::SNS::Topic", { TopicName: "staging-events" });
    other.app.hasResourceProperties("AWS::SQS::Queue", { QueueName: "staging-analytics-dlq" });
    other.app.hasResourceProperties("AWS::DynamoDB::Table", { TableName: "staging-event-log" });
    assert.equal(other.appStack.stackName, "staging-app");
  });
});

describe("network", () => {
  test("VPC over 2 AZs: public, private (NAT) and isolated subnets, a NAT gateway per AZ", () => {
    base.app.resourceCountIs("AWS::EC2::VPC", 1);
    base.app.resourceCountIs("AWS::EC2::Subnet", 6);
    base.app.resourceCountIs("AWS::EC2::NatGateway", 2);
    const azs = new Set(ofType(tpl, "AWS::EC2::Subnet").map(([, r]) => JSON.stringify(r.Properties.AvailabilityZone)));
    assert.equal(azs.size, 2, "subnets span two AZs");
    const natRoutes = ofType(tpl, "AWS::EC2::Route").filter(([, r]) => r.Properties.NatGatewayId);
    assert.equal(natRoutes.length, 2, "each private subnet routes through its AZ's NAT");
  });

  test("the ALB reaches the api containers, the database only the instances", () => {
    const ingress = ofType(tpl, "AWS::EC2::SecurityGroupIngress").map(([, r]) => r.Properties);
    const sgId = (prefix: string) =>
      ofType(tpl, "AWS::EC2::SecurityGroup").find(([id]) => id.startsWith(prefix))![0];
    const inst = sgId("InstanceSg"), alb = sgId("AlbSecurityGroup"), db = sgId("DatabaseSg");
    assert.ok(
      ingress.some((p) => p.GroupId["Fn::GetAtt"][0] === inst && p.SourceSecurityGroupId?.["Fn::GetAtt"]?.[0] === alb && p.FromPort === 32768 && p.ToPort === 65535),
      "ALB → instance dynamic ports",
    );
    const dbRules = ingress.filter((p) => p.GroupId["Fn::GetAtt"][0] === db);
    assert.equal(dbRules.length, 1);
    assert.equal(dbRules[0].SourceSecurityGroupId["Fn::GetAtt"][0], inst);
    assert.equal(dbRules[0].FromPort, 3306);
    const dbSg = tpl.Resources[db].Properties;
    assert.deepEqual(dbSg.SecurityGroupIngress ?? [], [], "no CIDR ingress to the database");
  });
});

describe("compute", () => {
  test("ECS cluster on EC2: an Auto Scaling group in private subnets behind a capacity provider", () => {
    base.app.resourceCountIs("AWS::ECS::Cluster", 1);
    base.app.hasResourceProperties("AWS::ECS::CapacityProvider", {
      AutoScalingGroupProvider: Match.objectLike({ ManagedScaling: Match.objectLike({ Status: "ENABLED" }) }),
    });
    const [[, asg]] = ofType(tpl, "AWS::AutoScaling::AutoScalingGroup");
    assert.ok(Number(asg.Properties.MinSize) >= 2);
    for (const s of asg.Properties.VPCZoneIdentifier) assert.match(s.Ref, /^Vpcapp/, "instances in the private app subnets");
    assert.ok(asg.Properties.LaunchTemplate, "launch template, not a launch configuration");
    base.app.resourceCountIs("AWS::AutoScaling::LaunchConfiguration", 0);
    base.app.hasResourceProperties("AWS::EC2::LaunchTemplate", {
      LaunchTemplateData: Match.objectLike({ MetadataOptions: Match.objectLike({ HttpTokens: "required" }) }),
    });
  });

  for (const role of ["api", "worker"] as const) {
    test(`${role}: one image, --role=${role}, cloud configuration, secrets from Secrets Manager`, () => {
      const [[, td]] = ofType(tpl, "AWS::ECS::TaskDefinition").filter(([, r]) => r.Properties.Family === `${n.env}-${role}`);
      const [c] = td.Properties.ContainerDefinitions;
      assert.deepEqual(c.Command, ["serve", `--role=${role}`]);
      assert.equal(c.ReadonlyRootFilesystem, true);
      assert.equal(c.User, "65532:65532");
      const env = Object.fromEntries(c.Environment.map((e: any) => [e.Name, e.Value]));
      assert.equal(env.TASKD_MODE, "cloud");
      assert.equal(env.TASKD_ENV, n.env);
      assert.equal(env.TASKD_ADDR, "0.0.0.0:8080");
      assert.equal(env.TASKD_CREATE_RESOURCES, "false");
      assert.equal(env.TASKD_EMAIL_FROM, "taskd@example.com");
      assert.ok(env.AWS_REGION);
      for (const [k, v] of Object.entries(env)) {
        assert.ok(!/SECRET|PASSWORD|DSN|TOKEN/.test(k), `${k}=${JSON.stringify(v)} must be a secret, not an environment value`);
      }
      const secrets = c.Secrets.map((s: any) => s.Name).sort();
      assert.deepEqual(secrets, ["TASKD_JWT_SECRET", "TASKD_MYSQL_DSN"]);
      assert.ok(JSON.stringify(c.Image).includes(`/${n.env}:0123abc`), "runs the CI stack's repository at the tag from context");
      assert.equal(c.PortMappings[0].ContainerPort, 8080);
    });
  }

  test("the api service sits behind the ALB's /readyz-checked target group; both services scale", () => {
    base.app.hasResourceProperties("AWS::ElasticLoadBalancingV2::LoadBalancer", { Scheme: "internet-facing" });
    base.app.hasResourceProperties("AWS::ElasticLoadBalancingV2::TargetGroup", {
      HealthCheckPath: "/readyz",
      Matcher: { HttpCode: "200" },
    });
    base.app.hasResourceProperties("AWS::ECS::Service", {
      ServiceName: `${n.env}-api`,
      LoadBalancers: [Match.objectLike({ ContainerPort: 8080 })],
      DeploymentConfiguration: Match.objectLike({ DeploymentCircuitBreaker: { Enable: true, Rollback: true } }),
    });
    base.app.hasResourceProperties("AWS::ECS::Service", { ServiceName: `${n.env}-worker` });
    const targets = ofType(tpl, "AWS::ApplicationAutoScaling::ScalableTarget");
    assert.equal(targets.length, 2);
    for (const [, t] of targets) {
      assert.equal(t.Properties.ServiceNamespace, "ecs");
      assert.ok(t.Properties.MinCapacity >= 2 && t.Properties.MaxCapacity > t.Properties.MinCapacity);
    }
    const policies = ofType(tpl, "AWS::ApplicationAutoScaling::ScalingPolicy").map(([, p]) => p.Properties);
    const kinds = policies.map((p) => p.TargetTrackingScalingPolicyConfiguration?.PredefinedMetricSpecification?.PredefinedMetricType ?? p.PolicyType);
    assert.ok(kinds.includes("ECSServiceAverageCPUUtilization"));
    assert.ok(kinds.includes("ALBRequestCountPerTarget"));
    assert.ok(kinds.includes("StepScaling"), "workers scale on the queue backlog");
  });

  test("the ECR repository (CI stack) scans on push and keeps tags immutable", () => {
    base.ci.hasResourceProperties("AWS::ECR::Repository", {
      RepositoryName: n.env,
      ImageScanningConfiguration: { ScanOnPush: true },
      ImageTagMutability: "IMMUTABLE",
    });
  });

  test("GitHub OIDC roles: build from main/tags, deploy only from the production environment", () => {
    const ci = base.ci.toJSON() as { Resources: Resources };
    const roles = ofType(ci, "AWS::IAM::Role").map(([, r]) => r.Properties);
    const trust = (name: string) => {
      const r = roles.find((p) => p.RoleName === `${n.env}-github-${name}`);
      assert.ok(r, `role ${name}`);
      const st = r!.AssumeRolePolicyDocument.Statement[0];
      assert.equal(st.Action, "sts:AssumeRoleWithWebIdentity");
      assert.equal(st.Condition.StringEquals["token.actions.githubusercontent.com:aud"], "sts.amazonaws.com");
      return [].concat(st.Condition.StringLike["token.actions.githubusercontent.com:sub"]);
    };
    assert.deepEqual(trust("build"), ["repo:taskd/taskd:ref:refs/heads/main", "repo:taskd/taskd:ref:refs/tags/v*"]);
    assert.deepEqual(trust("deploy"), ["repo:taskd/taskd:environment:production"]);
    base.ci.resourceCountIs("AWS::IAM::User", 0);
    base.ci.resourceCountIs("AWS::IAM::AccessKey", 0);
  });
});

describe("data", () => {
  test("RDS MySQL: Multi-AZ, encrypted, backed up, private, protected", () => {
    base.app.hasResourceProperties("AWS::RDS::DBInstance", {
      Engine: "mysql",
      MultiAZ: true,
      StorageEncrypted: true,
      PubliclyAccessible: false,
      DeletionProtection: true,
      BackupRetentionPeriod: Match.anyValue(),
    });
    const [[, db]] = ofType(tpl, "AWS::RDS::DBInstance");
    assert.ok(db.Properties.BackupRetentionPeriod >= 7);
    const [[, group]] = ofType(tpl, "AWS::RDS::DBSubnetGroup");
    for (const s of group.Properties.SubnetIds) assert.match(s.Ref, /^Vpcdb/, "database in the isolated subnets");
  });

  test("Secrets Manager: a generated JWT secret; the DSN carries the generated password by reference only", () => {
    base.app.hasResourceProperties("AWS::SecretsManager::Secret", {
      Name: `${n.env}/jwt-secret`,
      GenerateSecretString: Match.objectLike({ PasswordLength: 64 }),
    });
    const dsn = ofType(tpl, "AWS::SecretsManager::Secret").find(([, r]) => r.Properties.Name === `${n.env}/mysql-dsn`);
    assert.ok(dsn);
    const s = JSON.stringify(dsn![1].Properties.SecretString);
    assert.match(s, /\{\{resolve:secretsmanager:/, "the password is resolved by CloudFormation");
    assert.match(s, /@tcp\(/);
  });

  test("SES identity for TASKD_EMAIL_FROM", () => {
    base.app.hasResourceProperties("AWS::SES::EmailIdentity", { EmailIdentity: "taskd@example.com" });
  });
});

describe("web app", () => {
  test("private S3 bucket behind CloudFront (origin access control), /api/* to the ALB", () => {
    base.app.hasResourceProperties("AWS::S3::Bucket", {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    base.app.resourceCountIs("AWS::CloudFront::OriginAccessControl", 1);
    const [[, dist]] = ofType(tpl, "AWS::CloudFront::Distribution");
    const cfg = dist.Properties.DistributionConfig;
    assert.equal(cfg.DefaultCacheBehavior.ViewerProtocolPolicy, "redirect-to-https");
    const api = cfg.CacheBehaviors.find((b: any) => b.PathPattern === "/api/*");
    assert.ok(api, "/api/* behaviour");
    assert.ok(cfg.Origins.some((o: any) => o.OriginAccessControlId), "S3 origin uses OAC");
    assert.ok(cfg.Origins.some((o: any) => o.CustomOriginConfig), "ALB origin");
    base.app.resourceCountIs("AWS::Route53::RecordSet", 0);
  });

  test("with a domain: Route 53 alias records, CloudFront and ALB certificates, HTTPS redirect", () => {
    const web = fs.mkdtempSync(path.join(os.tmpdir(), "taskd-web-"));
    fs.writeFileSync(path.join(web, "index.html"), "<!doctype html><title>taskd</title>");
    const full = synth({
      imageTag: "x",
      hostedZoneId: "Z0000000000000000000",
      zoneName: "example.com",
      recordName: "taskd.example.com",
      cloudFrontCertificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/11111111-1111-1111-1111-111111111111",
      albCertificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/22222222-2222-2222-2222-222222222222",
      alarmEmail: "ops@example.com",
      webDist: web,
    });
    full.app.hasResourceProperties("AWS::Route53::RecordSet", { Name: "taskd.example.com.", Type: "A" });
    full.app.hasResourceProperties("AWS::ElasticLoadBalancingV2::Listener", { Port: 443, Protocol: "HTTPS" });
    full.app.hasResourceProperties("AWS::ElasticLoadBalancingV2::Listener", {
      Port: 80,
      DefaultActions: [Match.objectLike({ Type: "redirect" })],
    });
    full.app.hasResourceProperties("AWS::SNS::Subscription", { Protocol: "email", Endpoint: "ops@example.com" });
    full.app.resourceCountIs("Custom::CDKBucketDeployment", 1);
  });
});

describe("least privilege", () => {
  // Actions that AWS offers no resource-level scoping for, and which roles
  // CDK or ECS need; anything else on "*" fails.
  const allowedOnStar = new Set([
    "ecr:GetAuthorizationToken", // pulling from ECR (execution roles, instances)
    "ecs:DiscoverPollEndpoint", "ecs:Poll", "ecs:StartTelemetrySession", // ECS agent (Poll: cluster condition)
    "logs:CreateLogStream", "logs:PutLogEvents", // ECS agent on the instances
    "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy", // CDK's log retention function
    "ecs:ListTasks", "ecs:DescribeTaskDefinition", "ec2:DescribeInstances", // metrics agent discovery
    "cloudfront:GetInvalidation", "cloudfront:CreateInvalidation", // web deployment
  ]);

  const statements = (t: { Resources: Resources }) =>
    ofType(t, "AWS::IAM::Policy").flatMap(([id, p]) =>
      p.Properties.PolicyDocument.Statement.map((s: any) => ({ id, roles: p.Properties.Roles, ...s })),
    );

  test("no wildcard actions; '*' resources only for actions that cannot be scoped", () => {
    for (const t of [tpl, base.ci.toJSON() as { Resources: Resources }]) {
      for (const s of statements(t)) {
        const actions: string[] = [].concat(s.Action);
        for (const a of actions) assert.ok(a !== "*" && !a.endsWith(":*"), `${s.id}: wildcard action ${a}`);
        if ([].concat(s.Resource).includes("*" as never) && s.Effect === "Allow") {
          for (const a of actions) assert.ok(allowedOnStar.has(a), `${s.id}: ${a} on "*"`);
        }
      }
    }
  });

  const roleActions = (role: any) => {
    const id = logicalId(base.appStack, role);
    return statements(tpl)
      .filter((s) => s.roles.some((r: any) => r.Ref === id))
      .map((s) => ({ actions: [].concat(s.Action) as string[], resources: JSON.stringify(s.Resource) }));
  };

  test("the api role reads; it cannot publish, consume or write", () => {
    const all = roleActions(base.appStack.apiTaskRole).flatMap((s) => s.actions);
    assert.ok(all.includes("dynamodb:Query"));
    for (const a of all) {
      assert.ok(!/^(sns:Publish|sqs:|dynamodb:(Put|Update|Delete|BatchWrite)|ses:)/.test(a), `api role has ${a}`);
    }
  });

  test("the worker role publishes to the events topic and consumes exactly its queues", () => {
    const st = roleActions(base.appStack.workerTaskRole);
    const publish = st.find((s) => s.actions.includes("sns:Publish"));
    assert.ok(publish && publish.resources.includes("EventsTopic"), "publish scoped to the events topic");
    const consume = st.find((s) => s.actions.includes("sqs:ReceiveMessage"));
    assert.ok(consume);
    for (const g of names.consumerGroups) {
      assert.ok(consume!.resources.includes(`Queue${g}`) && consume!.resources.includes(`Dlq${g}`), `consumes ${g} and its DLQ`);
    }
    const ses = st.find((s) => s.actions.includes("ses:SendEmail"));
    assert.ok(ses && ses.resources.includes("EmailIdentity"), "e-mail only from the SES identity");
  });

  test("SMS, when enabled, is the only unscoped publish", () => {
    const sms = synth({ imageTag: "x", smsEnabled: "true" });
    const env = sms.app.toJSON() as { Resources: Resources };
    const stars = statements(env).filter((s) => [].concat(s.Resource).includes("*" as never) && [].concat(s.Action).includes("sns:Publish" as never));
    assert.equal(stars.length, 1);
    assert.ok(stars[0].roles.some((r: any) => r.Ref === logicalId(sms.appStack, sms.appStack.workerTaskRole)));
  });
});

describe("alarms (deploy/alarms.json) → SNS alarm topic", () => {
  const alarms = ofType(tpl, "AWS::CloudWatch::Alarm").map(([, r]) => r.Properties);
  const topicId = ofType(tpl, "AWS::SNS::Topic").find(([, r]) => r.Properties.TopicName === n.alarmTopic)![0];
  const ops: Record<string, string> = { ">": "GreaterThanThreshold", ">=": "GreaterThanOrEqualToThreshold", "<": "LessThanThreshold", "<=": "LessThanOrEqualToThreshold" };

  for (const spec of loadAlarms().filter((a) => a.where.includes("cloudwatch"))) {
    test(`${spec.key}: ${spec.title}`, () => {
      const mine = alarms.filter((a) => typeof a.AlarmName === "string" && (a.AlarmName === `${n.env}-${spec.key}` || a.AlarmName.startsWith(`${n.env}-${spec.key}-`)));
      const want = spec.key === "dlqDepth" ? names.consumerGroups.length : 1;
      assert.equal(mine.length, want, `${want} alarm(s)`);
      for (const a of mine) {
        assert.equal(a.Threshold, spec.threshold);
        assert.equal(a.ComparisonOperator, ops[spec.op]);
        assert.equal(a.EvaluationPeriods, spec.forMinutes);
        const period = a.Period ?? a.Metrics?.find((m: any) => m.MetricStat || m.Period)?.Period ?? a.Metrics?.[0]?.MetricStat?.Period;
        assert.equal(period ?? 60, 60, "one-minute periods");
        assert.deepEqual(a.AlarmActions, [{ Ref: topicId }]);
      }
    });
  }

  test("the DLQ alarms watch the DLQs by name", () => {
    for (const g of names.consumerGroups) {
      const a = alarms.find((x) => x.AlarmName === `${n.env}-dlqDepth-${g}`);
      assert.ok(a, g);
      assert.equal(a!.MetricName, "ApproximateNumberOfMessagesVisible");
      assert.match(JSON.stringify(a!.Dimensions), new RegExp(`Dlq${g}`));
    }
  });
});

test("CDK reports no errors or warnings", () => {
  for (const stack of [base.appStack, base.ciStack]) {
    const a = Annotations.fromStack(stack);
    a.hasNoError("*", Match.anyValue());
    a.hasNoWarning("*", Match.anyValue());
  }
});

test("the synthesised templates were written for the Go cross-check", () => {
  assert.ok(fs.existsSync(path.join(checkOut, `${n.env}-app.template.json`)));
});
