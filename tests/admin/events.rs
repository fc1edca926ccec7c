//! The Server-Sent Events stream.

use std::time::Duration;

use serde_json::Value;

use crate::common::*;

/// One parsed SSE event.
#[derive(Debug, Clone, Default)]
pub struct Sse {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

/// Reads events from a streaming response body.
pub struct Reader {
    resp: reqwest::Response,
    buf: String,
}

impl Reader {
    pub async fn open(lk: &Lk, last_event_id: Option<&str>) -> Reader {
        let mut req = lk.http.get(lk.api("/events"));
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        Reader {
            resp,
            buf: String::new(),
        }
    }

    /// The next event (comments skipped), within `within`.
    async fn next(&mut self, within: Duration) -> Option<Sse> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut ev = Sse::default();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        ev.id = Some(v.trim().to_string());
                    } else if let Some(v) = line.strip_prefix("event:") {
                        ev.event = Some(v.trim().to_string());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        ev.data.push_str(v.trim_start());
                    }
                }
                if ev.event.is_some() || !ev.data.is_empty() {
                    return Some(ev);
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.resp.chunk())
                .await
                .ok()?
                .ok()??;
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next event of type `name`, within `within`.
    pub async fn next_of(&mut self, name: &str, within: Duration) -> Option<Sse> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let ev = self.next(left).await?;
            if ev.event.as_deref() == Some(name) {
                return Some(ev);
            }
        }
    }
}

#[tokio::test]
async fn token_issued_arrives_within_a_second_and_the_stream_resumes_from_last_event_id() {
    let lk = start().await;
    let mut stream = Reader::open(&lk, None).await;
    let (s, tok) = lk.client_credentials("read_books").await;
    assert_eq!(s, 200);
    let issued = stream
        .next_of("token.issued", Duration::from_secs(1))
        .await
        .expect("token.issued within 1 s");
    let env: Value = serde_json::from_str(&issued.data).unwrap();
    assert_eq!(env["type"], "token.issued");
    assert_eq!(env["data"]["client_id"], "books-app");
    assert_eq!(env["data"]["token"], tok["access_token"]);
    assert_eq!(issued.id.as_deref(), Some(env["id"].to_string().as_str()));
    let logged = stream.next_of("request.logged", Duration::from_secs(1)).await.unwrap();
    let logged: Value = serde_json::from_str(&logged.data).unwrap();
    assert_eq!(logged["data"]["path"], "/token");
    assert!(!logged.to_string().contains(SECRET));

    // Changes while disconnected are replayed after Last-Event-ID, in order, once.
    let last = issued.id.clone().unwrap();
    drop(stream);
    lk.post("/scopes", serde_json::json!({"name": "while_away"})).await;
    lk.post("/clock", serde_json::json!({"advance": 5})).await;
    let mut resumed = Reader::open(&lk, Some(&last)).await;
    let mut seen = Vec::new();
    while let Some(ev) = resumed.next(Duration::from_millis(500)).await {
        seen.push(ev);
        if seen.iter().any(|e| e.event.as_deref() == Some("clock.moved")) {
            break;
        }
    }
    let names: Vec<&str> = seen.iter().filter_map(|e| e.event.as_deref()).collect();
    assert_eq!(
        names,
        vec!["request.logged", "scope.created", "clock.moved"],
        "{seen:?}"
    );
    let ids: Vec<u64> = seen.iter().map(|e| e.id.as_ref().unwrap().parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{ids:?}");
    assert_eq!(ids[0], last.parse::<u64>().unwrap() + 1);

    // An id from the future (a previous run of the server) asks the client to refetch.
    let mut stale = Reader::open(&lk, Some("999999")).await;
    let first = stale.next(Duration::from_secs(1)).await.unwrap();
    assert_eq!(first.event.as_deref(), Some("resync"));

    // Shutdown ends open streams instead of waiting for them.
    let started = std::time::Instant::now();
    lk.server.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert!(resumed.next(Duration::from_secs(2)).await.is_none());
}
