// taskd web app — deploy-time configuration. This file is NOT part of the bundle:
// overwrite it on the static host (S3 + CloudFront) to point the same build at an API
// on another origin, and serve it with `Cache-Control: no-cache`.
//   apiBase:        origin (and optional path prefix) of the taskd API; "" = same origin
//   pollIntervalMs: how often the inbox's unread count is refreshed
window.TASKD_CONFIG = {
  apiBase: "",
  pollIntervalMs: 15000,
};
