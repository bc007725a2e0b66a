//! A bounded in-memory cache of small answers the frontend marked
//! [`Cacheable`], replayed without calling the frontend.
//!
//! Why: a cached iPXE script, a manifest by digest or the answer to posting
//! an existing schematic is the same bytes every time, but the frontend
//! recomputes it (parse the stored schematic, resolve the profile, render
//! the script): tens of microseconds per request. A hit here is a hash
//! lookup and a header-map clone.
//!
//! What keeps it correct (the contract is on [`Cacheable`]):
//! - the key is everything the frontend may read from such a request: the
//!   method, the URI, the `Host`, `Accept` and `Content-Type` values and
//!   the body bytes (compared whole, not hashed). A request carrying any
//!   header outside [`IGNORED`] and those three (`Origin`, `Range`,
//!   conditionals, its own `X-Request-ID`, ...) is neither looked up nor
//!   stored: it always reaches the frontend;
//! - only 2xx responses with the marker and a body of bytes are stored;
//! - a replay is the stored response with a fresh `X-Request-ID` written in
//!   place (same header order); hyper adds `Date` to both;
//! - [`ResponseCache::invalidate`] (called after every catalog refresh
//!   attempt) drops every [`Cacheable::UntilCatalogsChange`] entry and bumps
//!   a generation, so an answer computed from the old catalogs while the
//!   refresh ran is not stored afterwards.
//!
//! Bounds ([`CacheLimits`]): entries, total bytes (keys, headers and bodies
//! counted) and bytes per entry. A larger answer is not stored; when full,
//! the oldest entries are evicted first (FIFO: these answers are uniformly
//! cheap to recompute, so recency bookkeeping on every hit is not worth it).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use bytes::Bytes;
use factory_core::frontend::{Body, Cacheable, Request, Response};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};

/// Request headers the frontend never reads for a marked route: their
/// values may differ between requests sharing an entry.
const IGNORED: [HeaderName; 8] = [
    header::USER_AGENT,
    header::ACCEPT_ENCODING,
    header::ACCEPT_LANGUAGE,
    header::CONNECTION,
    header::CONTENT_LENGTH,
    header::EXPECT,
    header::TE,
    header::TRANSFER_ENCODING,
];

/// `X-Request-ID`, written fresh into every replay.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What the cache may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CacheLimits {
    /// Most entries; past it the oldest are evicted.
    pub(crate) max_entries: usize,
    /// Most bytes over all entries; past it the oldest are evicted.
    pub(crate) max_bytes: usize,
    /// Largest single entry; larger answers are not stored. Also bounds
    /// the request bodies that are looked up at all.
    pub(crate) max_entry_bytes: usize,
}

impl Default for CacheLimits {
    /// 4096 entries, 32 MiB, 256 KiB each: every PXE script, manifest and
    /// schematic answer of a busy factory, at a small fixed memory cost.
    fn default() -> Self {
        CacheLimits {
            max_entries: 4096,
            max_bytes: 32 << 20,
            max_entry_bytes: 256 << 10,
        }
    }
}

/// Everything a marked answer may depend on. See the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct CacheKey {
    method: Method,
    uri: Uri,
    host: Option<HeaderValue>,
    accept: Option<HeaderValue>,
    content_type: Option<HeaderValue>,
    body: Bytes,
}

impl CacheKey {
    /// Bytes this key holds, for the byte bound.
    fn weight(&self) -> usize {
        let value = |v: &Option<HeaderValue>| v.as_ref().map_or(0, HeaderValue::len);
        self.uri.path().len()
            + self.uri.query().map_or(0, str::len)
            + self.uri.authority().map_or(0, |a| a.as_str().len())
            + value(&self.host)
            + value(&self.accept)
            + value(&self.content_type)
            + self.body.len()
            + 64
    }
}

/// One stored answer.
#[derive(Debug)]
struct Entry {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    kind: Cacheable,
    weight: usize,
}

#[derive(Debug, Default)]
struct State {
    generation: u64,
    entries: HashMap<CacheKey, Arc<Entry>>,
    /// Insertion order, for eviction; may hold keys already dropped.
    order: VecDeque<CacheKey>,
    bytes: usize,
}

/// See the module docs.
#[derive(Debug)]
pub(crate) struct ResponseCache {
    limits: CacheLimits,
    state: RwLock<State>,
}

/// A stored answer, ready to be replayed.
#[derive(Debug, Clone)]
pub(crate) struct Hit(Arc<Entry>);

impl Hit {
    /// The stored response with `request_id` as its `X-Request-ID`.
    pub(crate) fn replay<O>(&self, request_id: &str) -> Response<O> {
        let entry = &self.0;
        let body = if entry.body.is_empty() {
            Body::Empty
        } else {
            Body::Bytes(entry.body.clone())
        };
        let mut response = http::Response::new(body);
        *response.status_mut() = entry.status;
        let mut headers = entry.headers.clone();
        if let Ok(value) = HeaderValue::from_str(request_id) {
            headers.insert(REQUEST_ID, value);
        }
        *response.headers_mut() = headers;
        response.extensions_mut().insert(entry.kind);
        response
    }
}

impl ResponseCache {
    /// An empty cache with these bounds.
    pub(crate) fn new(limits: CacheLimits) -> Self {
        ResponseCache {
            limits,
            state: RwLock::new(State::default()),
        }
    }

    /// The key of `request`, or `None` if it must reach the frontend (a
    /// header outside the key and [`IGNORED`], a keyed header given twice,
    /// or a body larger than an entry may be).
    pub(crate) fn key_of(&self, request: &Request) -> Option<CacheKey> {
        if request.body().len() > self.limits.max_entry_bytes {
            return None;
        }
        let (mut host, mut accept, mut content_type) = (None, None, None);
        for (name, value) in request.headers() {
            let slot = if name == header::HOST {
                &mut host
            } else if name == header::ACCEPT {
                &mut accept
            } else if name == header::CONTENT_TYPE {
                &mut content_type
            } else if IGNORED.contains(name) {
                continue;
            } else {
                return None;
            };
            if slot.replace(value.clone()).is_some() {
                return None;
            }
        }
        Some(CacheKey {
            method: request.method().clone(),
            uri: request.uri().clone(),
            host,
            accept,
            content_type,
            body: request.body().clone(),
        })
    }

    /// The stored answer for `key`.
    pub(crate) fn get(&self, key: &CacheKey) -> Option<Hit> {
        self.read().entries.get(key).cloned().map(Hit)
    }

    /// The current generation; pass it to [`offer`](Self::offer).
    pub(crate) fn generation(&self) -> u64 {
        self.read().generation
    }

    /// Stores `response` under `key` if it is marked, successful, made of
    /// bytes, small enough, and no invalidation happened since `generation`
    /// was read (before the frontend was called). Returns whether it was
    /// stored.
    pub(crate) fn offer<O>(&self, key: CacheKey, generation: u64, response: &Response<O>) -> bool {
        let Some(kind) = response.extensions().get::<Cacheable>().copied() else {
            return false;
        };
        if !response.status().is_success() {
            return false;
        }
        let body = match response.body() {
            Body::Bytes(bytes) => bytes.clone(),
            Body::Empty => Bytes::new(),
            Body::Object(_) => return false,
        };
        let headers = response.headers().clone();
        let header_bytes: usize = headers
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len() + 32)
            .sum();
        let weight = key.weight() + header_bytes + body.len();
        if weight > self.limits.max_entry_bytes {
            return false;
        }
        let entry = Arc::new(Entry {
            status: response.status(),
            headers,
            body,
            kind,
            weight,
        });
        let mut state = self.write();
        if state.generation != generation || state.entries.contains_key(&key) {
            return false;
        }
        while state.entries.len() + 1 > self.limits.max_entries
            || state.bytes + weight > self.limits.max_bytes
        {
            let Some(oldest) = state.order.pop_front() else {
                break;
            };
            if let Some(evicted) = state.entries.remove(&oldest) {
                state.bytes -= evicted.weight;
            }
        }
        state.bytes += weight;
        state.order.push_back(key.clone());
        state.entries.insert(key, entry);
        true
    }

    /// Drops every answer that depends on the catalogs and starts a new
    /// generation. See the module docs.
    pub(crate) fn invalidate(&self) {
        let mut state = self.write();
        state.generation = state.generation.wrapping_add(1);
        state
            .entries
            .retain(|_, entry| entry.kind != Cacheable::UntilCatalogsChange);
        let State {
            entries,
            order,
            bytes,
            ..
        } = &mut *state;
        order.retain(|key| entries.contains_key(key));
        *bytes = entries.values().map(|e| e.weight).sum();
    }

    /// How many answers are stored, and their bytes.
    #[cfg(test)]
    pub(crate) fn usage(&self) -> (usize, usize) {
        let state = self.read();
        (state.entries.len(), state.bytes)
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        // Plain data kept consistent under the lock; usable after a panic.
        self.state
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use factory_core::catalog::ReleaseCatalog;
    use factory_core::frontend::memory::MemoryPlatform;
    use factory_core::frontend::{Frontend, FrontendConfig, Platform};

    const EMPTY_ID: &str = "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba";

    async fn frontend() -> Frontend<MemoryPlatform> {
        let platform = MemoryPlatform::new(
            ["v1.11.0", "v1.12.4"]
                .iter()
                .map(|v| (v.parse().unwrap(), ReleaseCatalog::default()))
                .collect(),
        );
        let frontend =
            Frontend::new(platform, FrontendConfig::at("http://127.0.0.1:8080/")).unwrap();
        let created = frontend
            .handle(request("POST", "/schematics", &[], b"customization: {}\n"))
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
        frontend
    }

    fn request(method: &str, uri: &str, headers: &[(&str, &str)], body: &[u8]) -> Request {
        let mut builder = http::Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Bytes::copy_from_slice(body)).unwrap()
    }

    fn pxe(arch: &str) -> String {
        format!("/pxe/{EMPTY_ID}/v1.12.4/metal-{arch}")
    }

    /// Answers through the cache as the server does: (response, was it a hit).
    async fn through(
        cache: &ResponseCache,
        frontend: &Frontend<MemoryPlatform>,
        request: Request,
    ) -> (Response<()>, bool) {
        let key = cache.key_of(&request);
        if let Some(hit) = key.as_ref().and_then(|k| cache.get(k)) {
            return (hit.replay(&frontend.platform().new_request_id()), true);
        }
        let generation = cache.generation();
        let response = frontend.handle(request).await;
        if let Some(key) = key {
            cache.offer(key, generation, &response);
        }
        let (parts, body) = response.into_parts();
        let body = match body {
            Body::Bytes(b) => Body::Bytes(b),
            Body::Empty => Body::Empty,
            Body::Object(_) => panic!("no objects in these tests"),
        };
        (http::Response::from_parts(parts, body), false)
    }

    fn without_request_id(response: &Response<()>) -> HeaderMap {
        let mut headers = response.headers().clone();
        assert!(headers.remove(REQUEST_ID).is_some());
        headers
    }

    fn order(headers: &HeaderMap) -> Vec<String> {
        headers.keys().map(|k| k.as_str().to_owned()).collect()
    }

    #[tokio::test]
    async fn a_hit_is_the_frontend_answer_with_a_fresh_request_id() {
        let frontend = frontend().await;
        let cache = ResponseCache::new(CacheLimits::default());
        let cases = [
            request("GET", &pxe("amd64"), &[("host", "f")], b""),
            request("GET", &pxe("arm64"), &[("user-agent", "wrk")], b""),
            request(
                "POST",
                "/schematics",
                &[("content-type", "application/yaml")],
                b"customization: {}\n",
            ),
        ];
        for case in cases {
            let (method, uri) = (case.method().clone(), case.uri().clone());
            let (headers, body) = (case.headers().clone(), case.body().clone());
            let again = || {
                let mut r = http::Request::new(body.clone());
                *r.method_mut() = method.clone();
                *r.uri_mut() = uri.clone();
                *r.headers_mut() = headers.clone();
                r
            };
            let (miss, was_hit) = through(&cache, &frontend, case).await;
            assert!(!was_hit && miss.status().is_success(), "{uri}");
            let (hit, was_hit) = through(&cache, &frontend, again()).await;
            assert!(was_hit, "{method} {uri} was not stored");
            let fresh = frontend.handle(again()).await;
            for other in [&miss, &hit] {
                assert_eq!(other.status(), fresh.status());
                assert_eq!(without_request_id(other), {
                    let mut h = fresh.headers().clone();
                    h.remove(REQUEST_ID);
                    h
                });
                assert_eq!(order(other.headers()), order(fresh.headers()));
                assert_eq!(other.body().as_bytes(), fresh.body().as_bytes());
            }
            assert_ne!(miss.headers()[REQUEST_ID], hit.headers()[REQUEST_ID]);
            assert_ne!(hit.headers()[REQUEST_ID], fresh.headers()[REQUEST_ID]);
        }
        assert_eq!(cache.usage().0, 3);
    }

    #[tokio::test]
    async fn different_requests_never_share_an_entry() {
        let frontend = frontend().await;
        let cache = ResponseCache::new(CacheLimits::default());
        let variants = [
            request("GET", &pxe("amd64"), &[], b""),
            request("GET", &pxe("arm64"), &[], b""),
            request("GET", &pxe("amd64"), &[("content-type", "text/plain")], b""),
            request("GET", &pxe("amd64"), &[("host", "a")], b""),
            request("GET", &pxe("amd64"), &[("host", "b")], b""),
            request("GET", &pxe("amd64"), &[("accept", "text/plain")], b""),
            request("GET", &format!("{}?x=1", pxe("amd64")), &[], b""),
            request(
                "GET",
                &format!("/pxe/{EMPTY_ID}/v1.11.0/metal-amd64"),
                &[],
                b"",
            ),
            request("POST", "/schematics", &[], b"customization: {}\n"),
            request(
                "POST",
                "/schematics",
                &[],
                b"customization:\n  extraKernelArgs: [a]\n",
            ),
        ];
        let count = variants.len();
        let mut expected = Vec::new();
        for v in &variants {
            let fresh = frontend.handle(v.clone()).await;
            expected.push((fresh.status(), fresh.body().as_bytes().unwrap().to_vec()));
            let (miss, was_hit) = through(&cache, &frontend, v.clone()).await;
            assert!(
                !was_hit,
                "{} {} hit another request's entry",
                v.method(),
                v.uri()
            );
            assert_eq!(miss.status(), fresh.status());
        }
        assert_eq!(cache.usage().0, count);
        for (v, (status, body)) in variants.into_iter().zip(expected) {
            let (hit, was_hit) = through(&cache, &frontend, v).await;
            assert!(was_hit);
            assert_eq!(hit.status(), status);
            assert_eq!(hit.body().as_bytes().unwrap(), &body[..]);
        }
    }

    #[test]
    fn requests_the_frontend_reads_more_of_are_not_keyed() {
        let cache = ResponseCache::new(CacheLimits::default());
        let uri = pxe("amd64");
        assert!(
            cache
                .key_of(&request("GET", &uri, &[("user-agent", "wrk")], b""))
                .is_some()
        );
        for header in [
            ("origin", "https://example.com"),
            ("x-request-id", "mine"),
            ("range", "bytes=0-1"),
            ("if-none-match", "\"x\""),
            ("access-control-request-method", "GET"),
            ("authorization", "Bearer x"),
        ] {
            let r = request("GET", &uri, &[header], b"");
            assert!(cache.key_of(&r).is_none(), "{header:?}");
        }
        let twice = request("GET", &uri, &[("accept", "a"), ("accept", "b")], b"");
        assert!(cache.key_of(&twice).is_none());
        let big = vec![b'a'; CacheLimits::default().max_entry_bytes + 1];
        assert!(
            cache
                .key_of(&request("POST", "/schematics", &[], &big))
                .is_none()
        );
    }

    fn answer(kind: Option<Cacheable>, status: StatusCode, body: &'static [u8]) -> Response<()> {
        let mut r = http::Response::new(Body::Bytes(Bytes::from_static(body)));
        *r.status_mut() = status;
        if let Some(kind) = kind {
            r.extensions_mut().insert(kind);
        }
        r
    }

    fn key(cache: &ResponseCache, n: usize) -> CacheKey {
        cache
            .key_of(&request("GET", &format!("/k/{n}"), &[], b""))
            .unwrap()
    }

    #[test]
    fn only_marked_successful_byte_answers_are_stored() {
        let cache = ResponseCache::new(CacheLimits::default());
        let g = cache.generation();
        let ok = Some(Cacheable::Immutable);
        assert!(!cache.offer(key(&cache, 1), g, &answer(None, StatusCode::OK, b"x")));
        assert!(!cache.offer(key(&cache, 2), g, &answer(ok, StatusCode::NOT_FOUND, b"x")));
        let object: Response<u8> = {
            let mut r = http::Response::new(Body::Object(7));
            r.extensions_mut().insert(Cacheable::Immutable);
            r
        };
        assert!(!cache.offer(key(&cache, 3), g, &object));
        assert!(cache.offer(key(&cache, 4), g, &answer(ok, StatusCode::OK, b"x")));
        assert_eq!(cache.usage().0, 1);
    }

    #[test]
    fn bounded_by_entries_and_bytes_oldest_out_first() {
        let limits = CacheLimits {
            max_entries: 3,
            max_bytes: 1 << 20,
            max_entry_bytes: 4096,
        };
        let cache = ResponseCache::new(limits);
        let g = cache.generation();
        let ok = Some(Cacheable::Immutable);
        for n in 0..5 {
            assert!(cache.offer(key(&cache, n), g, &answer(ok, StatusCode::OK, b"body")));
        }
        assert_eq!(cache.usage().0, 3);
        assert!(cache.get(&key(&cache, 0)).is_none() && cache.get(&key(&cache, 1)).is_none());
        assert!((2..5).all(|n| cache.get(&key(&cache, n)).is_some()));

        static BIG: [u8; 1000] = [b'b'; 1000];
        let limits = CacheLimits {
            max_entries: 100,
            max_bytes: 2500,
            max_entry_bytes: 2000,
        };
        let cache = ResponseCache::new(limits);
        for n in 0..10 {
            assert!(cache.offer(key(&cache, n), g, &answer(ok, StatusCode::OK, &BIG)));
            let (entries, bytes) = cache.usage();
            assert!(
                bytes <= 2500 && entries <= 2,
                "{entries} entries, {bytes} bytes"
            );
        }
        assert!(cache.get(&key(&cache, 9)).is_some());
        static HUGE: [u8; 2001] = [b'h'; 2001];
        assert!(!cache.offer(key(&cache, 99), g, &answer(ok, StatusCode::OK, &HUGE)));
    }

    #[test]
    fn invalidation_drops_catalog_answers_and_refuses_answers_made_before_it() {
        let cache = ResponseCache::new(CacheLimits::default());
        let before = cache.generation();
        let pxe = Some(Cacheable::UntilCatalogsChange);
        let manifest = Some(Cacheable::Immutable);
        assert!(cache.offer(key(&cache, 1), before, &answer(pxe, StatusCode::OK, b"p")));
        assert!(cache.offer(
            key(&cache, 2),
            before,
            &answer(manifest, StatusCode::OK, b"m")
        ));
        cache.invalidate();
        assert!(cache.get(&key(&cache, 1)).is_none());
        assert!(cache.get(&key(&cache, 2)).is_some());
        assert_eq!(cache.usage().0, 1);
        // Computed from the old catalogs while the refresh ran: not stored.
        assert!(!cache.offer(key(&cache, 3), before, &answer(pxe, StatusCode::OK, b"p")));
        let after = cache.generation();
        assert!(cache.offer(key(&cache, 3), after, &answer(pxe, StatusCode::OK, b"p")));
    }
}
