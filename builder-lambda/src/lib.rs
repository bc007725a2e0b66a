//! `builder-lambda`: the serverless factory's builder. The Cloudflare Worker
//! (the edge) cannot build; on a miss it POSTs a signed
//! [`BuildJob`](factory_core::dispatch::BuildJob) to this process, which
//! builds with `factory-imager`, uploads the bytes to S3-compatible storage
//! under content addresses and answers signed statements
//! ([`factory_core::dispatch::BuildOutcome`]).
//!
//! One handler ([`handler::handle`]) serves every request, under two
//! adapters:
//!
//! - on AWS Lambda, `lambda_http` (Function URL events) — the default;
//! - with `LOCAL_HTTP=127.0.0.1:PORT`, a small hyper server on that address
//!   ([`local`]), which also answers `GET /healthz` and
//!   `GET /local/invocations` (accepted jobs by kind) and
//!   `GET /local/builds` (builds actually run, by kind) so tests can prove
//!   de-duplication.
//!
//! # Configuration (environment)
//!
//! | variable | meaning |
//! |---|---|
//! | `IF_BUCKET` | bucket for `blobs/sha256/<hex>` and `records/...` (required) |
//! | `IF_S3_REGION` | region of the bucket and of Secrets Manager (default `us-east-1`) |
//! | `IF_S3_ENDPOINT` | S3-compatible endpoint (R2, s3s-fs); path-style; `http://` allowed |
//! | `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` | credentials, as Lambda sets them (required) |
//! | `IF_SIGNING_KEY` | the P-256 signing key, PEM text (SEC1, PKCS#8, with or without `EC PARAMETERS`) |
//! | `IF_SIGNING_KEY_SECRET_ID` | or: a Secrets Manager secret holding that PEM, read at cold start |
//! | `IF_DISPATCH_SECRET` | the HMAC secret shared with the edge (≥ 32 bytes) |
//! | `IF_DISPATCH_SECRET_ID` | or: a Secrets Manager secret holding it |
//! | `IF_SECRETS_ENDPOINT` | Secrets Manager endpoint override (default `https://secretsmanager.<region>.amazonaws.com`) |
//! | `IF_UPSTREAM_REGISTRY` | upstream registry host (default `ghcr.io`) |
//! | `IF_UPSTREAM_NAMESPACE` | path prefix in front of `siderolabs/...` repositories, e.g. a pull-through cache project (default: none) |
//! | `IF_UPSTREAM_INSECURE` | `true`/`1`: plain HTTP to upstream (local tests) |
//! | `IF_EXTERNAL_URL` | the public factory URL (cmdlines, signature references) (required) |
//! | `IF_CACHE_DIR` | upstream blob cache and build scratch, kept across warm invocations (default `/tmp/image-factory`) |
//! | `IF_CACHE_MAX_BYTES` | the upstream blob cache and the squashfs segment cache are each emptied before a build when larger (default 3 GiB; see [`cache_limit`]) |
//! | `IF_LOG` | `tracing` filter (default `info`) |
//! | `LOCAL_HTTP` | serve locally on this address instead of the Lambda runtime |
//!
//! Exactly one of each `IF_SIGNING_KEY`/`IF_SIGNING_KEY_SECRET_ID` and
//! `IF_DISPATCH_SECRET`/`IF_DISPATCH_SECRET_ID` must be set. Any bad or
//! missing setting stops the process at start with a message naming it.
//!
//! # Object layout
//!
//! | key | what |
//! |---|---|
//! | `blobs/sha256/<hex>` | artifacts and OCI blobs (written first) |
//! | `records/asset/<key>.json` | the signed record of an asset (written last) |
//! | `records/installer/<image>/<schematic>/<tag>.json` | the last installer answer, re-verified before reuse |

pub mod cache_limit;
pub mod config;
pub mod counters;
pub mod handler;
pub mod jobs;
pub mod lambda;
pub mod local;
pub mod secrets;
pub mod single_flight;
pub mod state;
pub mod store;
