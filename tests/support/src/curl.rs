//! curl as the HTTP client of the integration tests (a real, independent
//! one), and free loopback ports for the servers they start.

use std::process::Command;

use crate::command::tool;

/// A port free on 127.0.0.1 when asked (nothing listens on it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One answer: status (0 when nothing answered), headers (lowercase names)
/// and body.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The last response's status; 0 when nothing answered.
    pub status: u16,
    /// The last response's headers, names lowercased, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The last header `name` (lowercase) of the response.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Runs curl with `args` (the URL among them; redirects are followed only
/// when `-L` is among them), parsing the last response's status and headers.
pub fn curl(args: &[&str]) -> Answer {
    let dir = tempfile::tempdir().unwrap();
    let headers = dir.path().join("headers");
    let body = dir.path().join("body");
    let out = Command::new(tool("curl", "curl"))
        .args(["-sS", "--max-time", "600", "-D"])
        .arg(&headers)
        .arg("-o")
        .arg(&body)
        .args(["-w", "%{http_code}"])
        .args(args)
        .output()
        .unwrap();
    let status: u16 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    let text = std::fs::read_to_string(&headers).unwrap_or_default();
    // With -L there are several header blocks: keep the last.
    let last = text
        .split("\r\n\r\n")
        .filter(|b| !b.trim().is_empty())
        .last()
        .unwrap_or_default();
    let headers = last
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: std::fs::read(&body).unwrap_or_default(),
    }
}
