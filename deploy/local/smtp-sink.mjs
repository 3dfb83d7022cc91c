// A tiny SMTP sink for tests: accepts every message on an SMTP port and shows
// what it received as JSON over HTTP. Used by standins.sh.
//
// SMTP (default 127.0.0.1:11025): no TLS (STARTTLS is not offered, so Go's
// net/smtp and similar clients send in plain text), AUTH PLAIN/LOGIN optional and
// any username/password accepted. Recipients in the domain "reject.invalid" are
// refused with "550 5.1.1", so tests can exercise a permanent SMTP failure.
//
// HTTP (default 127.0.0.1:11080):
//   GET    /health          -> {"status":"ok"}
//   GET    /messages        -> JSON array of received messages, oldest first;
//                              ?to=ADDR keeps those whose envelope recipients
//                              include ADDR (case-insensitive)
//   GET    /messages/ID     -> one message, 404 if unknown
//   DELETE /messages        -> forget all messages (204)
// Message fields: id, receivedAt, envelope{from,to[]}, authUser, messageId,
// from, to[], cc[], replyTo[], subject, date, text, html, headers{}, attachments[
// {filename,contentType,size,contentBase64}], raw.
//
// Environment: SMTP_SINK_BIND (127.0.0.1), SMTP_SINK_SMTP_PORT (11025),
// SMTP_SINK_HTTP_PORT (11080), SMTP_SINK_MAX (keep at most this many, 1000).
import http from "node:http";
import { SMTPServer } from "smtp-server";
import { simpleParser } from "mailparser";

const bind = process.env.SMTP_SINK_BIND ?? "127.0.0.1";
const smtpPort = Number.parseInt(process.env.SMTP_SINK_SMTP_PORT ?? "11025", 10);
const httpPort = Number.parseInt(process.env.SMTP_SINK_HTTP_PORT ?? "11080", 10);
const maxKept = Number.parseInt(process.env.SMTP_SINK_MAX ?? "1000", 10);
const maxSize = 25 * 1024 * 1024;

let messages = [];
let nextId = 1;

const addrList = (a) => {
  if (!a) return [];
  const groups = Array.isArray(a) ? a : [a];
  return groups.flatMap((g) => g.value ?? []).map((v) => v.address ?? v.name).filter(Boolean);
};

const smtp = new SMTPServer({
  name: "smtp-sink.local",
  banner: "taskd test SMTP sink",
  logger: false,
  secure: false,
  disabledCommands: ["STARTTLS"],
  authOptional: true,
  allowInsecureAuth: true,
  authMethods: ["PLAIN", "LOGIN"],
  disableReverseLookup: true,
  size: maxSize,
  onAuth(auth, _session, cb) {
    cb(null, { user: auth.username });
  },
  onRcptTo(address, _session, cb) {
    if (/@reject\.invalid$/i.test(address.address)) {
      const err = new Error("5.1.1 Recipient rejected by smtp-sink (reject.invalid)");
      err.responseCode = 550;
      return cb(err);
    }
    cb();
  },
  onData(stream, session, cb) {
    const chunks = [];
    stream.on("data", (c) => chunks.push(c));
    stream.on("error", cb);
    stream.on("end", async () => {
      if (stream.sizeExceeded) {
        const err = new Error("5.3.4 Message too big");
        err.responseCode = 552;
        return cb(err);
      }
      const raw = Buffer.concat(chunks);
      try {
        const p = await simpleParser(raw, { skipTextToHtml: true, skipImageLinks: true });
        const headers = {};
        for (const line of p.headerLines ?? []) {
          const v = line.line.slice(line.line.indexOf(":") + 1).trim();
          headers[line.key] = headers[line.key] === undefined ? v : `${headers[line.key]}, ${v}`;
        }
        const msg = {
          id: String(nextId++),
          receivedAt: new Date().toISOString(),
          envelope: {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            to: session.envelope.rcptTo.map((r) => r.address),
          },
          authUser: session.user ?? null,
          messageId: p.messageId ?? null,
          from: addrList(p.from)[0] ?? null,
          to: addrList(p.to),
          cc: addrList(p.cc),
          replyTo: addrList(p.replyTo),
          subject: p.subject ?? "",
          date: p.date ? p.date.toISOString() : null,
          text: p.text ?? "",
          html: typeof p.html === "string" ? p.html : "",
          headers,
          attachments: (p.attachments ?? []).map((a) => ({
            filename: a.filename ?? null,
            contentType: a.contentType,
            size: a.size,
            contentBase64: a.content.toString("base64"),
          })),
          raw: raw.toString("utf8"),
        };
        messages.push(msg);
        if (messages.length > maxKept) messages = messages.slice(-maxKept);
        cb(null, `Queued as ${msg.id}`);
      } catch (e) {
        cb(e);
      }
    });
  },
});
smtp.on("error", (e) => console.error("smtp-sink: smtp error:", e.message));

function send(res, code, body) {
  if (body === undefined) {
    res.writeHead(code);
    return res.end();
  }
  const data = JSON.stringify(body);
  res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(data) });
  res.end(data);
}

const api = http.createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://localhost");
  const path = url.pathname.replace(/\/+$/, "") || "/";
  if (path === "/health" && req.method === "GET") return send(res, 200, { status: "ok" });
  if (path === "/messages" && req.method === "GET") {
    const to = url.searchParams.get("to");
    const out = to
      ? messages.filter((m) => m.envelope.to.some((r) => r.toLowerCase() === to.toLowerCase()))
      : messages;
    return send(res, 200, out);
  }
  if (path === "/messages" && req.method === "DELETE") {
    messages = [];
    return send(res, 204);
  }
  const one = path.match(/^\/messages\/([^/]+)$/);
  if (one && req.method === "GET") {
    const m = messages.find((x) => x.id === one[1]);
    return m ? send(res, 200, m) : send(res, 404, { error: "not found" });
  }
  send(res, 404, { error: "not found" });
});

await new Promise((resolve, reject) => {
  smtp.once("error", reject);
  smtp.listen(smtpPort, bind, () => {
    smtp.off("error", reject);
    resolve();
  });
});
await new Promise((resolve, reject) => {
  api.once("error", reject);
  api.listen(httpPort, bind, resolve);
});
console.log(`smtp-sink: SMTP on ${bind}:${smtpPort}, HTTP API on http://${bind}:${httpPort}`);

function stop(signal) {
  console.log(`smtp-sink: ${signal}, shutting down`);
  setTimeout(() => process.exit(0), 2000).unref();
  api.close();
  smtp.close(() => process.exit(0));
}
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
