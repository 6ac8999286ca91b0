// Package ui is pipectl's web dashboard (`pipectl ui`): one page, embedded in the binary,
// that shows the jobs under the pipectl home and acts on them.
//
//	browser ──HTTP──▶ Server ──▶ jobs.List, job.json        (every job, running or not)
//	                         ├──▶ pipeline.yaml copy         (the operator graph)
//	                         └──▶ control socket             (live status, savepoint/stop/cancel)
//
// Routes (all under one handler, see Server.Handler):
//
//	GET  /                          the page (HTML with its CSS and JS inlined)
//	GET  /api/jobs                  every job: id, name, status, started, uptime
//	GET  /api/jobs/{id}             one job: graph, live status, checkpoints and savepoints
//	POST /api/jobs/{id}/savepoint   take a savepoint (the job keeps running)
//	POST /api/jobs/{id}/stop        stop with a savepoint
//	POST /api/jobs/{id}/cancel      cancel
//	POST /api/jobs/{id}/compat      check a pipeline file against the job
//
// Security: with a token every request must carry `Authorization: Bearer <token>` (the page
// itself may instead come with `?token=<token>`, which its script keeps in sessionStorage and
// sends as that header). Every POST must be JSON (a content type that a cross-site form
// cannot send without a CORS preflight, which is never granted) and come from the page's own
// origin (Origin and Sec-Fetch-Site are checked when the browser sends them). Without a token
// (loopback only) a request must name the server by IP address or localhost, against DNS
// rebinding.
package ui
