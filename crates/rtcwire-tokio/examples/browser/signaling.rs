//! The smallest HTTP/1.1 the page needs: `GET /` serves the page; every other request is
//! JSON in (POST body, or the query string of a GET) and JSON out, one request per
//! connection. Requests are capped at 4 MiB.

use std::time::Duration;

use serde_json::{Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::App;

const PAGE: &str = include_str!("page.html");
/// More of the page's scenarios (media), loaded by it as `/media.js`.
const MEDIA_JS: &str = include_str!("media.js");
const MAX_REQUEST: usize = 4 << 20;
/// A transparent 1×1 GIF.
const GIF: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x21,
    0xf9, 4, 1, 0, 0, 0, 0, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 1, 0, 0x3b,
];

pub(crate) async fn serve(
    listener: TcpListener,
    app: App,
) -> Result<(), Box<dyn std::error::Error>> {
    loop {
        let (stream, _) = listener.accept().await?;
        let app = app.clone();
        tokio::spawn(async move {
            if let Err(e) = one(stream, app).await {
                eprintln!("signaling: {e}");
            }
        });
    }
}

async fn one(mut stream: TcpStream, app: App) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(8192);
    let (head_len, content_length) = loop {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (i + 4, len);
        }
        if buf.len() > MAX_REQUEST {
            return respond(&mut stream, 413, "text/plain", b"too large").await;
        }
    };
    if content_length > MAX_REQUEST {
        return respond(&mut stream, 413, "text/plain", b"too large").await;
    }
    while buf.len() < head_len + content_length {
        let mut chunk = vec![0u8; 65536];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf[..head_len]).into_owned();
    let mut request_line = head.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (
        request_line.next().unwrap_or(""),
        request_line.next().unwrap_or("/"),
    );
    let (path, query) = target.split_once('?').unwrap_or((target, ""));

    if method == "GET" && path == "/" {
        return respond(
            &mut stream,
            200,
            "text/html; charset=utf-8",
            PAGE.as_bytes(),
        )
        .await;
    }
    if method == "GET" && path == "/media.js" {
        return respond(
            &mut stream,
            200,
            "text/javascript; charset=utf-8",
            MEDIA_JS.as_bytes(),
        )
        .await;
    }
    if method == "GET" && path == "/after-chat" {
        // Answers once a chat message was echoed (or after 15 s): see the page's `say`.
        let _ = tokio::time::timeout(Duration::from_secs(15), app.chatted.notified()).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        return respond(&mut stream, 200, "image/gif", GIF).await;
    }
    if method == "GET" && path == "/favicon.ico" {
        return respond(&mut stream, 404, "text/plain", b"").await;
    }
    // The body (POST) or the query (GET) as one JSON object.
    let mut body = match serde_json::from_slice::<Value>(&buf[head_len..head_len + content_length])
    {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    for (k, v) in query.split('&').filter_map(|kv| kv.split_once('=')) {
        let v = v
            .parse::<u64>()
            .map_or_else(|_| Value::String(v.to_owned()), Value::from);
        body.insert(k.to_owned(), v);
    }
    let id = body
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let body = Value::Object(body);
    match app.handle(path, &id, &body).await {
        Ok(reply) => {
            respond(
                &mut stream,
                200,
                "application/json",
                reply.to_string().as_bytes(),
            )
            .await
        }
        Err(e) => {
            eprintln!("signaling: {method} {path} ({id}): {e}");
            respond(&mut stream, 400, "text/plain", e.as_bytes()).await
        }
    }
}

async fn respond(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        413 => "Payload Too Large",
        _ => "Bad Request",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.shutdown().await
}
