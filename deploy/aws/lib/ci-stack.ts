// The registry and the identities GitHub Actions uses, deployed once per
// account before the app stack: an ECR repository (scan on push, immutable
// tags) and two roles that GitHub's OIDC tokens can assume, so no workflow
// holds long-lived AWS keys.
import * as cdk from "aws-cdk-lib";
import * as ecr from "aws-cdk-lib/aws-ecr";
import * as iam from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";

export interface CiStackProps extends cdk.StackProps {
  /** TASKD_ENV: prefix of every name. */
  readonly taskdEnv: string;
  /** owner/name of the GitHub repository whose workflows may assume the roles. */
  readonly githubRepository: string;
  /** ARN of an existing GitHub OIDC provider in the account; created when absent. */
  readonly githubOidcProviderArn?: string;
}

export class CiStack extends cdk.Stack {
  readonly repository: ecr.Repository;
  readonly buildRole: iam.Role;
  readonly deployRole: iam.Role;

  constructor(scope: Construct, id: string, props: CiStackProps) {
    super(scope, id, props);
    const env = props.taskdEnv;

    this.repository = new ecr.Repository(this, "Repository", {
      repositoryName: env,
      imageScanOnPush: true,
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      encryption: ecr.RepositoryEncryption.AES_256,
      removalPolicy: cdk.RemovalPolicy.RETAIN,
      lifecycleRules: [
        { description: "drop untagged layers after a week", tagStatus: ecr.TagStatus.UNTAGGED, maxImageAge: cdk.Duration.days(7) },
        { description: "keep the last 100 images", tagStatus: ecr.TagStatus.ANY, maxImageCount: 100 },
      ],
    });

    const provider = props.githubOidcProviderArn
      ? iam.OpenIdConnectProvider.fromOpenIdConnectProviderArn(this, "GitHubOidc", props.githubOidcProviderArn)
      : new iam.OpenIdConnectProvider(this, "GitHubOidc", {
          url: "https://token.actions.githubusercontent.com",
          clientIds: ["sts.amazonaws.com"],
        });
    const github = (subjects: string[]) =>
      new iam.WebIdentityPrincipal(provider.openIdConnectProviderArn, {
        StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
        StringLike: { "token.actions.githubusercontent.com:sub": subjects },
      });
    const repo = props.githubRepository;

    // Build: push images from main and from version tags; nothing else.
    this.buildRole = new iam.Role(this, "GitHubBuildRole", {
      roleName: `${env}-github-build`,
      description: "GitHub Actions: push taskd images to ECR (main and tags)",
      assumedBy: github([`repo:${repo}:ref:refs/heads/main`, `repo:${repo}:ref:refs/tags/v*`]),
      maxSessionDuration: cdk.Duration.hours(1),
    });
    this.repository.grantPullPush(this.buildRole);

    // Deploy: only jobs of the GitHub environment "production" (which has
    // required reviewers), and only through the CDK bootstrap roles.
    this.deployRole = new iam.Role(this, "GitHubDeployRole", {
      roleName: `${env}-github-deploy`,
      description: "GitHub Actions: cdk deploy of taskd (environment production)",
      assumedBy: github([`repo:${repo}:environment:production`]),
      maxSessionDuration: cdk.Duration.hours(1),
    });
    this.deployRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ["sts:AssumeRole"],
        resources: [`arn:${cdk.Aws.PARTITION}:iam::${cdk.Aws.ACCOUNT_ID}:role/cdk-hnb659fds-*-${cdk.Aws.ACCOUNT_ID}-${cdk.Aws.REGION}`],
      }),
    );
    this.repository.grantRead(this.deployRole);

    new cdk.CfnOutput(this, "RepositoryUri", { value: this.repository.repositoryUri });
    new cdk.CfnOutput(this, "BuildRoleArn", { value: this.buildRole.roleArn });
    new cdk.CfnOutput(this, "DeployRoleArn", { value: this.deployRole.roleArn });
  }
}
