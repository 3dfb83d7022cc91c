// taskd in one AWS region: the seed's resource architecture.
//
//   Route 53 (optional) → CloudFront ─┬─ S3 (web app, origin access control)
//                                     └─ /api/* → ALB (public subnets)
//   ALB → ECS service "api" ┐  on an EC2 Auto Scaling group in private
//         ECS service "worker" ┘  subnets (NAT per AZ), service auto scaling
//   RDS MySQL Multi-AZ (isolated subnets, encrypted, backups)
//   SNS <env>-events → SQS <env>-<group> (+ <env>-<group>-dlq, maxReceiveCount)
//   DynamoDB <env>-event-log, -report-counters, -processed-events (on demand, PITR)
//   SES identity, Secrets Manager (JWT secret, DB password → DSN)
//   CloudWatch alarms (deploy/alarms.json) → SNS <env>-alarms
//
// Names come from deploy/names/names.json, thresholds from deploy/alarms.json.
import * as fs from "node:fs";
import * as cdk from "aws-cdk-lib";
import * as acm from "aws-cdk-lib/aws-certificatemanager";
import * as autoscaling from "aws-cdk-lib/aws-autoscaling";
import * as cloudfront from "aws-cdk-lib/aws-cloudfront";
import * as origins from "aws-cdk-lib/aws-cloudfront-origins";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as cwActions from "aws-cdk-lib/aws-cloudwatch-actions";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as ecr from "aws-cdk-lib/aws-ecr";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as elbv2 from "aws-cdk-lib/aws-elasticloadbalancingv2";
import * as iam from "aws-cdk-lib/aws-iam";
import * as logs from "aws-cdk-lib/aws-logs";
import * as rds from "aws-cdk-lib/aws-rds";
import * as route53 from "aws-cdk-lib/aws-route53";
import * as route53Targets from "aws-cdk-lib/aws-route53-targets";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as s3deploy from "aws-cdk-lib/aws-s3-deployment";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as ses from "aws-cdk-lib/aws-ses";
import * as sns from "aws-cdk-lib/aws-sns";
import * as snsSubs from "aws-cdk-lib/aws-sns-subscriptions";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { AlarmSpec, loadAlarms, Names } from "./shared";

export interface DnsProps {
  /** Hosted zone of the domain (Route 53). */
  readonly hostedZoneId: string;
  readonly zoneName: string;
  /** Record for the web app and API, e.g. taskd.example.com. */
  readonly recordName: string;
  /** ACM certificate in us-east-1 for CloudFront, covering recordName. */
  readonly cloudFrontCertificateArn: string;
}

export interface AppStackProps extends cdk.StackProps {
  /** TASKD_ENV: prefix of every resource name (deploy/names). */
  readonly taskdEnv: string;
  /** Name of the image repository (created by the CI stack) and the tag to run. */
  readonly repositoryName: string;
  readonly imageTag: string;
  /** TASKD_EMAIL_FROM; its address (or domain) becomes the SES identity. */
  readonly emailFrom: string;
  /** TASKD_PUBLIC_URL: base of links in messages. */
  readonly publicUrl: string;
  /** Verify the whole domain of emailFrom in SES instead of the address. */
  readonly sesDomainIdentity?: boolean;
  /** ACM certificate (stack region) for the ALB's HTTPS listener. */
  readonly albCertificateArn?: string;
  readonly dns?: DnsProps;
  /** Subscribe this address to the alarm topic. */
  readonly alarmEmail?: string;
  /** TASKD_ALERT_WEBHOOK_URL (Discord/Slack) for dead letters. */
  readonly alertWebhookUrl?: string;
  /** Folder of the built web app (web/dist); uploaded to S3 when it exists. */
  readonly webDist?: string;
  /** Send SMS through SNS (TASKD_SMS=sns); off by default. */
  readonly smsEnabled?: boolean;
  readonly instanceType?: string;
}

const CONTAINER_PORT = 8080;

export class AppStack extends cdk.Stack {
  readonly names: Names;
  readonly eventsTopic: sns.Topic;
  readonly queues: Record<string, { queue: sqs.Queue; dlq: sqs.Queue }> = {};
  readonly tables: Record<string, dynamodb.Table> = {};
  readonly alarmTopic: sns.Topic;
  readonly apiTaskRole: iam.Role;
  readonly workerTaskRole: iam.Role;

  constructor(scope: Construct, id: string, props: AppStackProps) {
    super(scope, id, props);
    const names = (this.names = new Names(props.taskdEnv));
    const env = names.env;

    // ---------------------------------------------------------------- network
    const vpc = new ec2.Vpc(this, "Vpc", {
      maxAzs: 2,
      natGateways: 2, // one per AZ: losing an AZ does not cut the other's egress
      subnetConfiguration: [
        { name: "public", subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: "app", subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
        { name: "db", subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
    });
    vpc.addFlowLog("FlowLog", {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(
        new logs.LogGroup(this, "FlowLogs", { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: cdk.RemovalPolicy.DESTROY }),
      ),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });

    // ---------------------------------------------------------------- events
    this.eventsTopic = new sns.Topic(this, "EventsTopic", {
      topicName: names.eventsTopic,
      displayName: "taskd domain events",
      enforceSSL: true,
    });
    for (const group of names.file.consumerGroups) {
      const dlq = new sqs.Queue(this, `Dlq-${group}`, {
        queueName: names.dlq(group),
        retentionPeriod: cdk.Duration.days(14),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      const queue = new sqs.Queue(this, `Queue-${group}`, {
        queueName: names.queue(group),
        retentionPeriod: cdk.Duration.days(4),
        visibilityTimeout: cdk.Duration.seconds(30), // adapters/snssqs's default for the queues it creates
        receiveMessageWaitTime: cdk.Duration.seconds(20),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        deadLetterQueue: { queue: dlq, maxReceiveCount: names.file.maxReceiveCount },
      });
      // The same subscription the binary creates when allowed to (raw delivery).
      this.eventsTopic.addSubscription(
        new snsSubs.SqsSubscription(queue, { rawMessageDelivery: names.file.rawMessageDelivery }),
      );
      this.queues[group] = { queue, dlq };
    }

    // ---------------------------------------------------------------- read models
    for (const spec of names.file.tables) {
      this.tables[spec.key] = new dynamodb.Table(this, `Table-${spec.key}`, {
        tableName: names.table(spec),
        partitionKey: { name: spec.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: spec.sortKey ? { name: spec.sortKey, type: dynamodb.AttributeType.STRING } : undefined,
        timeToLiveAttribute: spec.ttlAttribute,
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        deletionProtection: true,
        removalPolicy: cdk.RemovalPolicy.RETAIN,
      });
    }

    // ---------------------------------------------------------------- e-mail
    const emailDomain = props.emailFrom.split("@")[1];
    const identity = new ses.EmailIdentity(this, "EmailIdentity", {
      identity: props.sesDomainIdentity && emailDomain ? ses.Identity.domain(emailDomain) : ses.Identity.email(props.emailFrom),
    });

    // ---------------------------------------------------------------- secrets and database
    const jwtSecret = new secretsmanager.Secret(this, "JwtSecret", {
      secretName: `${env}/jwt-secret`,
      description: "TASKD_JWT_SECRET: signing key of taskd's access tokens",
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });

    const dbSecurityGroup = new ec2.SecurityGroup(this, "DatabaseSg", {
      vpc,
      description: "taskd MySQL: only the ECS instances",
      allowAllOutbound: false,
    });
    const db = new rds.DatabaseInstance(this, "Database", {
      engine: rds.DatabaseInstanceEngine.mysql({ version: rds.MysqlEngineVersion.VER_8_4_8 }),
      instanceType: new ec2.InstanceType("t4g.medium"),
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [dbSecurityGroup],
      multiAz: true,
      storageEncrypted: true,
      allocatedStorage: 20,
      maxAllocatedStorage: 200,
      storageType: rds.StorageType.GP3,
      backupRetention: cdk.Duration.days(7),
      preferredBackupWindow: "02:00-03:00",
      deletionProtection: true,
      removalPolicy: cdk.RemovalPolicy.SNAPSHOT,
      databaseName: "taskd",
      credentials: rds.Credentials.fromGeneratedSecret("taskd", { secretName: `${env}/db-credentials` }),
      publiclyAccessible: false,
      autoMinorVersionUpgrade: true,
      enablePerformanceInsights: true,
      cloudwatchLogsExports: ["error", "slowquery"],
      cloudwatchLogsRetention: logs.RetentionDays.ONE_MONTH,
      parameters: { character_set_server: "utf8mb4", collation_server: "utf8mb4_0900_ai_ci" },
    });
    // TASKD_MYSQL_DSN as a secret of its own: CloudFormation resolves the
    // generated password into it at deploy time, so neither the template nor
    // the task definition ever holds the password.
    const dbPassword = cdk.SecretValue.secretsManager(db.secret!.secretArn, { jsonField: "password" });
    const dsnSecret = new secretsmanager.Secret(this, "DsnSecret", {
      secretName: `${env}/mysql-dsn`,
      description: "TASKD_MYSQL_DSN (go-sql-driver DSN with the generated password)",
      secretStringValue: cdk.SecretValue.unsafePlainText(
        cdk.Fn.join("", [
          "taskd:",
          dbPassword.unsafeUnwrap(),
          "@tcp(",
          db.dbInstanceEndpointAddress,
          ":",
          db.dbInstanceEndpointPort,
          ")/taskd?tls=preferred",
        ]),
      ),
    });

    // ---------------------------------------------------------------- compute
    const cluster = new ecs.Cluster(this, "Cluster", {
      clusterName: env,
      vpc,
      containerInsightsV2: ecs.ContainerInsights.ENHANCED,
    });
    // A launch template (launch configurations are retired for new accounts).
    const instanceSg = new ec2.SecurityGroup(this, "InstanceSg", {
      vpc,
      description: "taskd ECS container instances (tasks use bridge networking)",
      allowAllOutbound: true, // AWS APIs, SES, ECR through the NAT gateways
    });
    const launchTemplate = new ec2.LaunchTemplate(this, "LaunchTemplate", {
      instanceType: new ec2.InstanceType(props.instanceType ?? "t3.medium"),
      machineImage: ecs.EcsOptimizedImage.amazonLinux2023(),
      userData: ec2.UserData.forLinux(), // the cluster adds its ECS agent settings
      role: new iam.Role(this, "InstanceRole", {
        assumedBy: new iam.ServicePrincipal("ec2.amazonaws.com"),
        description: "ECS container instances of taskd (the ECS agent; tasks have their own roles)",
      }),
      securityGroup: instanceSg,
      requireImdsv2: true,
      httpPutResponseHopLimit: 1, // containers cannot reach the instance role through IMDS
      blockDevices: [
        { deviceName: "/dev/xvda", volume: ec2.BlockDeviceVolume.ebs(30, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }) },
      ],
    });
    const asg = new autoscaling.AutoScalingGroup(this, "Capacity", {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      launchTemplate,
      minCapacity: 2,
      maxCapacity: 8,
    });
    const capacityProvider = new ecs.AsgCapacityProvider(this, "CapacityProvider", {
      autoScalingGroup: asg,
      enableManagedTerminationProtection: false,
      enableManagedDraining: true, // ECS drains instances itself: no drain-hook Lambda
      targetCapacityPercent: 90,
    });
    cluster.addAsgCapacityProvider(capacityProvider);
    cluster.connections.addSecurityGroup(instanceSg);
    db.connections.allowFrom(instanceSg, ec2.Port.tcp(3306), "taskd tasks");

    // ---------------------------------------------------------------- task roles (least privilege)
    const tableArns = Object.values(this.tables).map((t) => t.tableArn);
    this.apiTaskRole = new iam.Role(this, "ApiTaskRole", {
      assumedBy: new iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
      description: "taskd --role=api: reads read models; checks the event transport for /readyz",
    });
    this.apiTaskRole.addToPolicy(
      new iam.PolicyStatement({
        sid: "ReadModels",
        actions: ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:DescribeTable"],
        resources: tableArns,
      }),
    );
    this.apiTaskRole.addToPolicy(
      new iam.PolicyStatement({ sid: "Readiness", actions: ["sns:GetTopicAttributes"], resources: [this.eventsTopic.topicArn] }),
    );

    this.workerTaskRole = new iam.Role(this, "WorkerTaskRole", {
      assumedBy: new iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
      description: "taskd --role=worker: relays the outbox, consumes events, watches and replays DLQs, sends e-mail",
    });
    this.workerTaskRole.addToPolicy(
      new iam.PolicyStatement({ sid: "RelayEvents", actions: ["sns:Publish", "sns:GetTopicAttributes"], resources: [this.eventsTopic.topicArn] }),
    );
    const allQueues = Object.values(this.queues).flatMap((q) => [q.queue, q.dlq]);
    this.workerTaskRole.addToPolicy(
      new iam.PolicyStatement({
        sid: "ConsumeQueuesAndDlqs",
        actions: [
          "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
          "sqs:GetQueueUrl", "sqs:GetQueueAttributes",
        ],
        resources: allQueues.map((q) => q.queueArn),
      }),
    );
    this.workerTaskRole.addToPolicy(
      new iam.PolicyStatement({
        sid: "ReplayDeadLetters",
        actions: ["sqs:SendMessage"],
        resources: Object.values(this.queues).map((q) => q.queue.queueArn),
      }),
    );
    this.workerTaskRole.addToPolicy(
      new iam.PolicyStatement({
        sid: "ReadModelsAndLog",
        actions: [
          "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:DescribeTable",
          "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
          "dynamodb:ConditionCheckItem",
        ],
        resources: tableArns,
      }),
    );
    this.workerTaskRole.addToPolicy(
      new iam.PolicyStatement({
        sid: "SendEmail",
        actions: ["ses:SendEmail", "ses:SendRawEmail"],
        resources: [identity.emailIdentityArn],
        conditions: { StringEquals: { "ses:FromAddress": props.emailFrom } },
      }),
    );
    if (props.smsEnabled) {
      // SMS to a phone number has no resource ARN to scope the grant to.
      this.workerTaskRole.addToPolicy(
        new iam.PolicyStatement({ sid: "SendSms", actions: ["sns:Publish"], resources: ["*"] }),
      );
    }

    // ---------------------------------------------------------------- services
    // By name, not a cross-stack reference: the CI stack is deployed once,
    // the app stack on every release.
    const repository = ecr.Repository.fromRepositoryName(this, "Repository", props.repositoryName);
    const image = ecs.ContainerImage.fromEcrRepository(repository, props.imageTag);
    const environment: Record<string, string> = {
      TASKD_MODE: "cloud",
      TASKD_ENV: env,
      TASKD_ADDR: `0.0.0.0:${CONTAINER_PORT}`,
      TASKD_CREATE_RESOURCES: "false",
      TASKD_AUTO_MIGRATE: "true",
      TASKD_EMAIL_FROM: props.emailFrom,
      TASKD_PUBLIC_URL: props.publicUrl,
      TASKD_SMS: props.smsEnabled ? "sns" : "none",
      TASKD_LOG_FORMAT: "json",
      AWS_REGION: cdk.Aws.REGION,
    };
    if (props.alertWebhookUrl) environment.TASKD_ALERT_WEBHOOK_URL = props.alertWebhookUrl;
    const secrets = {
      TASKD_JWT_SECRET: ecs.Secret.fromSecretsManager(jwtSecret),
      TASKD_MYSQL_DSN: ecs.Secret.fromSecretsManager(dsnSecret),
    };

    const service = (role: "api" | "worker", taskRole: iam.Role, memoryMiB: number) => {
      const taskDef = new ecs.Ec2TaskDefinition(this, `${role}TaskDef`, {
        family: `${env}-${role}`,
        networkMode: ecs.NetworkMode.BRIDGE,
        taskRole,
      });
      taskDef.addContainer("taskd", {
        image,
        command: ["serve", `--role=${role}`],
        memoryReservationMiB: memoryMiB,
        memoryLimitMiB: memoryMiB * 2,
        cpu: 256,
        environment,
        secrets,
        portMappings: [{ containerPort: CONTAINER_PORT, hostPort: 0, protocol: ecs.Protocol.TCP, name: "http" }],
        readonlyRootFilesystem: true,
        user: "65532:65532",
        privileged: false,
        stopTimeout: cdk.Duration.seconds(45),
        // Discovered by the CloudWatch agent's Prometheus scraper.
        dockerLabels: {
          ECS_PROMETHEUS_EXPORTER_PORT: String(CONTAINER_PORT),
          ECS_PROMETHEUS_METRICS_PATH: "/metrics",
          ECS_PROMETHEUS_JOB_NAME: "taskd",
        },
        logging: ecs.LogDrivers.awsLogs({
          streamPrefix: role,
          logGroup: new logs.LogGroup(this, `${role}Logs`, {
            logGroupName: `/${env}/${role}`,
            retention: logs.RetentionDays.ONE_MONTH,
            removalPolicy: cdk.RemovalPolicy.DESTROY,
          }),
        }),
      });
      return new ecs.Ec2Service(this, `${role}Service`, {
        serviceName: `${env}-${role}`,
        cluster,
        taskDefinition: taskDef,
        desiredCount: 2,
        minHealthyPercent: 100,
        maxHealthyPercent: 200,
        circuitBreaker: { enable: true, rollback: true },
        capacityProviderStrategies: [{ capacityProvider: capacityProvider.capacityProviderName, weight: 1 }],
        placementStrategies: [ecs.PlacementStrategy.spreadAcross(ecs.BuiltInAttributes.AVAILABILITY_ZONE)],
        enableECSManagedTags: true,
        propagateTags: ecs.PropagatedTagSource.SERVICE,
      });
    };
    const api = service("api", this.apiTaskRole, 256);
    const worker = service("worker", this.workerTaskRole, 256);

    // ---------------------------------------------------------------- load balancer
    const alb = new elbv2.ApplicationLoadBalancer(this, "Alb", {
      vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      dropInvalidHeaderFields: true,
      idleTimeout: cdk.Duration.seconds(60),
    });
    const targetGroup = new elbv2.ApplicationTargetGroup(this, "ApiTargets", {
      vpc,
      port: CONTAINER_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.INSTANCE,
      deregistrationDelay: cdk.Duration.seconds(30),
      healthCheck: {
        path: "/readyz",
        interval: cdk.Duration.seconds(15),
        timeout: cdk.Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
        healthyHttpCodes: "200",
      },
    });
    api.attachToApplicationTargetGroup(targetGroup);
    // Bridge networking: the ALB reaches the containers on the instances'
    // dynamic host ports (ECS's ephemeral range).
    alb.connections.allowTo(instanceSg, ec2.Port.tcpRange(32768, 65535), "ALB to taskd api containers");
    if (props.albCertificateArn) {
      alb.addListener("Https", {
        port: 443,
        certificates: [elbv2.ListenerCertificate.fromArn(props.albCertificateArn)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultTargetGroups: [targetGroup],
      });
      alb.addRedirect({ sourcePort: 80, targetPort: 443 });
    } else {
      alb.addListener("Http", { port: 80, defaultTargetGroups: [targetGroup] });
    }

    // ---------------------------------------------------------------- service auto scaling
    const apiScaling = api.autoScaleTaskCount({ minCapacity: 2, maxCapacity: 12 });
    apiScaling.scaleOnCpuUtilization("Cpu", { targetUtilizationPercent: 60 });
    apiScaling.scaleOnRequestCount("Requests", { requestsPerTarget: 500, targetGroup });
    const workerScaling = worker.autoScaleTaskCount({ minCapacity: 2, maxCapacity: 8 });
    workerScaling.scaleOnCpuUtilization("Cpu", { targetUtilizationPercent: 60 });
    workerScaling.scaleOnMetric("Backlog", {
      metric: new cloudwatch.MathExpression({
        expression: Object.keys(this.queues).map((_, i) => `q${i}`).join(" + "),
        usingMetrics: Object.fromEntries(
          Object.values(this.queues).map((q, i) => [`q${i}`, q.queue.metricApproximateNumberOfMessagesVisible({ period: cdk.Duration.minutes(1), statistic: "Maximum" })]),
        ),
        period: cdk.Duration.minutes(1),
      }),
      scalingSteps: [
        { upper: 100, change: 0 },
        { lower: 100, change: +1 },
        { lower: 1000, change: +3 },
      ],
      adjustmentType: autoscaling.AdjustmentType.CHANGE_IN_CAPACITY,
      cooldown: cdk.Duration.minutes(2),
    });

    // ---------------------------------------------------------------- metrics agent
    // The CloudWatch agent scrapes /metrics of every taskd container (docker
    // labels above) and publishes the series the alarms need (EMF).
    this.addMetricsAgent(cluster, env, instanceSg);

    // ---------------------------------------------------------------- web app: S3 + CloudFront
    const webBucket = new s3.Bucket(this, "WebBucket", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: cdk.RemovalPolicy.RETAIN,
    });
    const apiOrigin = new origins.LoadBalancerV2Origin(alb, {
      protocolPolicy: props.albCertificateArn ? cloudfront.OriginProtocolPolicy.HTTPS_ONLY : cloudfront.OriginProtocolPolicy.HTTP_ONLY,
      readTimeout: cdk.Duration.seconds(30),
    });
    const certificate = props.dns
      ? acm.Certificate.fromCertificateArn(this, "CloudFrontCert", props.dns.cloudFrontCertificateArn)
      : undefined;
    const distribution = new cloudfront.Distribution(this, "Web", {
      comment: `${env} web app and API`,
      defaultRootObject: "index.html",
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(webBucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
      },
      additionalBehaviors: {
        "/api/*": {
          origin: apiOrigin,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        },
      },
      // The SPA answers its own routes.
      errorResponses: [
        { httpStatus: 403, responseHttpStatus: 200, responsePagePath: "/index.html", ttl: cdk.Duration.seconds(0) },
        { httpStatus: 404, responseHttpStatus: 200, responsePagePath: "/index.html", ttl: cdk.Duration.seconds(0) },
      ],
      // Only takes effect with a custom certificate (the default one is fixed).
      minimumProtocolVersion: props.dns ? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      domainNames: props.dns ? [props.dns.recordName] : undefined,
      certificate,
    });
    if (props.webDist && fs.existsSync(props.webDist)) {
      new s3deploy.BucketDeployment(this, "WebDeployment", {
        sources: [s3deploy.Source.asset(props.webDist)],
        destinationBucket: webBucket,
        distribution,
        distributionPaths: ["/*"],
        prune: true,
      });
    }
    if (props.dns) {
      const zone = route53.HostedZone.fromHostedZoneAttributes(this, "Zone", {
        hostedZoneId: props.dns.hostedZoneId,
        zoneName: props.dns.zoneName,
      });
      new route53.ARecord(this, "WebRecord", {
        zone,
        recordName: props.dns.recordName,
        target: route53.RecordTarget.fromAlias(new route53Targets.CloudFrontTarget(distribution)),
      });
      new route53.AaaaRecord(this, "WebRecord6", {
        zone,
        recordName: props.dns.recordName,
        target: route53.RecordTarget.fromAlias(new route53Targets.CloudFrontTarget(distribution)),
      });
    }

    // ---------------------------------------------------------------- alarms
    this.alarmTopic = new sns.Topic(this, "AlarmTopic", { topicName: names.alarmTopic, enforceSSL: true });
    if (props.alarmEmail) {
      this.alarmTopic.addSubscription(new snsSubs.EmailSubscription(props.alarmEmail));
    }
    this.addAlarms({ alb, targetGroup, db, cluster, workerFamily: `${env}-worker` });

    // ---------------------------------------------------------------- outputs
    new cdk.CfnOutput(this, "WebUrl", { value: `https://${props.dns?.recordName ?? distribution.distributionDomainName}` });
    new cdk.CfnOutput(this, "AlbDnsName", { value: alb.loadBalancerDnsName });
    new cdk.CfnOutput(this, "ClusterName", { value: cluster.clusterName });
    new cdk.CfnOutput(this, "WebBucketName", { value: webBucket.bucketName });
    new cdk.CfnOutput(this, "DistributionId", { value: distribution.distributionId });
    new cdk.CfnOutput(this, "EventsTopicArn", { value: this.eventsTopic.topicArn });
  }

  private addMetricsAgent(cluster: ecs.Cluster, env: string, instanceSg: ec2.SecurityGroup) {
    // The agent reaches containers on other instances through their host ports.
    instanceSg.addIngressRule(instanceSg, ec2.Port.tcpRange(32768, 65535), "metrics agent scrapes /metrics");
    const logGroup = new logs.LogGroup(this, "PrometheusMetrics", {
      logGroupName: `/aws/ecs/containerinsights/${env}/prometheus`,
      retention: logs.RetentionDays.ONE_WEEK,
      removalPolicy: cdk.RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, "MetricsAgentRole", {
      assumedBy: new iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
      description: "CloudWatch agent: discovers taskd containers, publishes their Prometheus metrics",
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: "ListTasks",
        actions: ["ecs:ListTasks"],
        resources: ["*"],
        conditions: { ArnEquals: { "ecs:cluster": cluster.clusterArn } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: "DescribeContainerInstances",
        actions: ["ecs:DescribeContainerInstances"],
        resources: [`arn:${cdk.Aws.PARTITION}:ecs:${cdk.Aws.REGION}:${cdk.Aws.ACCOUNT_ID}:container-instance/${cluster.clusterName}/*`],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: "DescribeTasks",
        actions: ["ecs:DescribeTasks"],
        resources: [`arn:${cdk.Aws.PARTITION}:ecs:${cdk.Aws.REGION}:${cdk.Aws.ACCOUNT_ID}:task/${cluster.clusterName}/*`],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: "NoResourceLevelPermissions",
        actions: ["ecs:DescribeTaskDefinition", "ec2:DescribeInstances"],
        resources: ["*"],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: "EmbeddedMetricFormat",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        resources: [logGroup.logGroupArn, `${logGroup.logGroupArn}:log-stream:*`],
      }),
    );
    const agentConfig = {
      logs: {
        metrics_collected: {
          prometheus: {
            log_group_name: logGroup.logGroupName,
            prometheus_config_path: "env:PROMETHEUS_CONFIG_CONTENT",
            ecs_service_discovery: {
              sd_frequency: "1m",
              sd_result_file: "/tmp/cwagent_ecs_auto_sd.yaml",
              docker_label: {
                sd_port_label: "ECS_PROMETHEUS_EXPORTER_PORT",
                sd_metrics_path_label: "ECS_PROMETHEUS_METRICS_PATH",
                sd_job_name_label: "ECS_PROMETHEUS_JOB_NAME",
              },
            },
            emf_processor: {
              metric_declaration_dedup: true,
              metric_namespace: MetricsNamespace,
              metric_declaration: [
                {
                  source_labels: ["job"],
                  label_matcher: "^taskd$",
                  dimensions: [["ClusterName", "TaskDefinitionFamily"]],
                  metric_selectors: ["^taskd_outbox_oldest_age_seconds$", "^taskd_outbox_backlog$", "^taskd_dlq_depth$", "^taskd_projection_lag_seconds$"],
                },
              ],
            },
          },
        },
        force_flush_interval: 5,
      },
    };
    const promConfig = [
      "global:",
      "  scrape_interval: 1m",
      "  scrape_timeout: 10s",
      "scrape_configs:",
      "  - job_name: cwagent-ecs-file-sd",
      "    sample_limit: 10000",
      "    file_sd_configs:",
      "      - files: [/tmp/cwagent_ecs_auto_sd.yaml]",
      "",
    ].join("\n");
    const taskDef = new ecs.Ec2TaskDefinition(this, "MetricsAgentTaskDef", {
      family: `${env}-metrics-agent`,
      networkMode: ecs.NetworkMode.BRIDGE,
      taskRole: role,
    });
    taskDef.addContainer("cloudwatch-agent", {
      image: ecs.ContainerImage.fromRegistry(CloudWatchAgentImage),
      memoryReservationMiB: 64,
      memoryLimitMiB: 256,
      cpu: 64,
      environment: {
        CW_CONFIG_CONTENT: cdk.Stack.of(this).toJsonString(agentConfig),
        PROMETHEUS_CONFIG_CONTENT: promConfig,
      },
      logging: ecs.LogDrivers.awsLogs({
        streamPrefix: "agent",
        logGroup: new logs.LogGroup(this, "MetricsAgentLogs", { retention: logs.RetentionDays.ONE_WEEK, removalPolicy: cdk.RemovalPolicy.DESTROY }),
      }),
    });
    // One replica scrapes the whole cluster (more would publish duplicates).
    new ecs.Ec2Service(this, "MetricsAgent", {
      serviceName: `${env}-metrics-agent`,
      cluster,
      taskDefinition: taskDef,
      desiredCount: 1,
      minHealthyPercent: 0,
      maxHealthyPercent: 100,
      circuitBreaker: { enable: true, rollback: true },
    });
  }

  private addAlarms(r: {
    alb: elbv2.ApplicationLoadBalancer;
    targetGroup: elbv2.ApplicationTargetGroup;
    db: rds.DatabaseInstance;
    cluster: ecs.Cluster;
    workerFamily: string;
  }) {
    const action = new cwActions.SnsAction(this.alarmTopic);
    const ops: Record<AlarmSpec["op"], cloudwatch.ComparisonOperator> = {
      ">": cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      ">=": cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      "<": cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      "<=": cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
      "==": cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, // unused on CloudWatch
    };
    const minute = cdk.Duration.minutes(1);
    const m = r.alb.metrics;
    // The metric each alarm of deploy/alarms.json watches on CloudWatch, per minute.
    const metrics: Record<string, () => Array<[string, cloudwatch.IMetric]>> = {
      http5xxRatio: () => [[
        "",
        new cloudwatch.MathExpression({
          label: "5xx ratio",
          expression: "IF(requests > 0, (target5xx + elb5xx) / requests, 0)",
          usingMetrics: {
            target5xx: m.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: minute, statistic: "Sum" }),
            elb5xx: m.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: minute, statistic: "Sum" }),
            requests: m.requestCount({ period: minute, statistic: "Sum" }),
          },
          period: minute,
        }),
      ]],
      httpP99Latency: () => [["", m.targetResponseTime({ period: minute, statistic: "p99" })]],
      dlqDepth: () =>
        Object.entries(this.queues).map(([group, q]) => [
          `-${group}`,
          q.dlq.metricApproximateNumberOfMessagesVisible({ period: minute, statistic: "Maximum" }),
        ]),
      outboxAge: () => [[
        "",
        new cloudwatch.Metric({
          namespace: MetricsNamespace,
          metricName: "taskd_outbox_oldest_age_seconds",
          dimensionsMap: { ClusterName: r.cluster.clusterName, TaskDefinitionFamily: r.workerFamily },
          statistic: "Maximum",
          period: minute,
        }),
      ]],
      rdsCpu: () => [["", r.db.metricCPUUtilization({ period: minute, statistic: "Average" })]],
      rdsFreeStorage: () => [["", r.db.metricFreeStorageSpace({ period: minute, statistic: "Minimum" })]],
    };
    for (const spec of loadAlarms()) {
      if (!spec.where.includes("cloudwatch")) continue;
      const make = metrics[spec.key];
      if (!make) throw new Error(`deploy/alarms.json: alarm ${spec.key} is meant for CloudWatch, but deploy/aws has no metric for it`);
      for (const [suffix, metric] of make()) {
        const alarm = new cloudwatch.Alarm(this, `Alarm-${spec.key}${suffix}`, {
          alarmName: `${this.names.env}-${spec.key}${suffix}`,
          alarmDescription: `${spec.title} (${spec.severity}; deploy/alarms.json ${spec.key})`,
          metric,
          threshold: spec.threshold,
          comparisonOperator: ops[spec.op],
          evaluationPeriods: spec.forMinutes,
          datapointsToAlarm: spec.forMinutes,
          treatMissingData:
            spec.key === "outboxAge" ? cloudwatch.TreatMissingData.BREACHING : cloudwatch.TreatMissingData.NOT_BREACHING,
        });
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
    }
  }
}

/** CloudWatch namespace of the Prometheus series the agent publishes. */
export const MetricsNamespace = "taskd/Prometheus";

/** Pinned CloudWatch agent image (public ECR). */
export const CloudWatchAgentImage = "public.ecr.aws/cloudwatch-agent/cloudwatch-agent:1.300059.0b1207";
