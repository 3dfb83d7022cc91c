#!/usr/bin/env node
// The CDK app: `npx cdk synth` / `npx cdk deploy <env>-ci <env>-app`.
//
// Context (cdk.json or -c key=value):
//   taskdEnv                TASKD_ENV, prefix of every name (default: names.json's)
//   imageTag                image tag to run (CI passes the git SHA)
//   githubRepository        owner/name allowed to assume the CI roles
//   githubOidcProviderArn   reuse an existing GitHub OIDC provider
//   emailFrom, publicUrl    TASKD_EMAIL_FROM, TASKD_PUBLIC_URL
//   sesDomainIdentity=true  verify emailFrom's domain instead of the address
//   albCertificateArn       HTTPS on the ALB
//   hostedZoneId, zoneName, recordName, cloudFrontCertificateArn   Route 53 + CloudFront domain
//   alarmEmail              subscribe an address to the alarm topic
//   alertWebhookUrl         TASKD_ALERT_WEBHOOK_URL
//   smsEnabled=true         TASKD_SMS=sns
//   webDist                 built web app folder (default ../../web/dist)
import * as path from "node:path";
import * as cdk from "aws-cdk-lib";
import { AppStack } from "../lib/app-stack";
import { CiStack } from "../lib/ci-stack";
import { deployDir, loadNames } from "../lib/shared";

export function buildApp(app: cdk.App): { ci: CiStack; appStack: AppStack } {
  const ctx = (key: string): string | undefined => {
    const v = app.node.tryGetContext(key);
    return v === undefined || v === "" ? undefined : String(v);
  };
  const taskdEnv = ctx("taskdEnv") ?? loadNames().defaultEnv;
  const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };

  const ci = new CiStack(app, `${taskdEnv}-ci`, {
    env,
    taskdEnv,
    githubRepository: ctx("githubRepository") ?? "taskd/taskd",
    githubOidcProviderArn: ctx("githubOidcProviderArn"),
  });
  const dns =
    ctx("hostedZoneId") && ctx("zoneName") && ctx("recordName") && ctx("cloudFrontCertificateArn")
      ? {
          hostedZoneId: ctx("hostedZoneId")!,
          zoneName: ctx("zoneName")!,
          recordName: ctx("recordName")!,
          cloudFrontCertificateArn: ctx("cloudFrontCertificateArn")!,
        }
      : undefined;
  const appStack = new AppStack(app, `${taskdEnv}-app`, {
    env,
    taskdEnv,
    repositoryName: taskdEnv, // the CI stack's ECR repository
    imageTag: ctx("imageTag") ?? "unset",
    emailFrom: ctx("emailFrom") ?? "taskd@example.com",
    publicUrl: ctx("publicUrl") ?? "https://taskd.example.com",
    sesDomainIdentity: ctx("sesDomainIdentity") === "true",
    albCertificateArn: ctx("albCertificateArn"),
    dns,
    alarmEmail: ctx("alarmEmail"),
    alertWebhookUrl: ctx("alertWebhookUrl"),
    smsEnabled: ctx("smsEnabled") === "true",
    webDist: ctx("webDist") ?? path.join(deployDir(), "..", "web", "dist"),
  });
  cdk.Tags.of(app).add("app", "taskd");
  cdk.Tags.of(app).add("taskd-env", taskdEnv);
  return { ci, appStack };
}

if (require.main === module) {
  const app = new cdk.App();
  buildApp(app);
  app.synth();
}
