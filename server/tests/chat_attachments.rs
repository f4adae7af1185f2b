//! Chat attachments over the real server, on both backends: the type is read from the bytes (a
//! text file named `.png`, an SVG, HTML are refused), oversize files are refused, only the room's
//! members fetch a sent file (404 for anyone else, the uploader alone before it is sent), a stored
//! file comes back byte-identical with headers that keep it inert, files are claimed once by one
//! message of their own room, and a deleted message's file is gone at once and its bytes at the
//! next purge, unless another file holds the same bytes.

mod common;

use common::TestServer;
use reqwest::Method;
use serde_json::{json, Value};
use studyhall::both_backends;
use studyhall::server::storage::content_key;
use studyhall::testing::TestDb;

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

const MAX: usize = 4096;

async fn upload(
    t: &TestServer,
    c: &reqwest::Client,
    room: i64,
    name: &str,
    bytes: &[u8],
) -> (u16, Value) {
    let res = c
        .post(t.url(&format!("/api/v1/rooms/{room}/attachments")))
        .query(&[("name", name)])
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

both_backends!(
    attachments_are_typed_by_content_limited_and_served_only_to_members,
    |db: TestDb| async move {
        let max = MAX.to_string();
        let t = TestServer::start_with(db, &[("STUDYHALL_ATTACHMENT_MAX_BYTES", &max)]).await;
        let common::ChatCast { ana, ben, .. } = t.chat_cast().await;
        let clients = t
            .browsers_for(&[
                "ana@example.com",
                "ben@example.com",
                "cy@example.com",
                "max@example.com",
                "root@example.com",
            ])
            .await;
        let (ana_c, ben_c) = (&clients[1], &clients[2]);
        let (s, direct) = t
            .call(
                ana_c,
                Method::POST,
                "/api/v1/rooms/direct",
                Some(json!({"user_id": ben.id})),
            )
            .await;
        assert_eq!(s, 200, "{direct}");
        let room = direct["room"]["id"].as_i64().unwrap();

        // Who may upload: members only (a non-member is told the room does not exist).
        let who = ["anonymous", "ana", "ben", "cy", "mentor", "admin"];
        let mut got = Vec::new();
        for c in &clients {
            got.push(upload(&t, c, room, "dot.png", PNG).await.0);
        }
        assert_eq!(got, [401, 201, 201, 404, 404, 404], "upload as {who:?}");

        // The type is the bytes', whatever the name says.
        for (name, bytes) in [
            ("photo.png", b"just some text, not a picture".as_slice()),
            (
                "x.png",
                b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".as_slice(),
            ),
            (
                "page.pdf",
                b"<html><script>alert(1)</script></html>".as_slice(),
            ),
        ] {
            let (s, body) = upload(&t, ana_c, room, name, bytes).await;
            assert_eq!(s, 415, "{name}: {body}");
            assert!(body["message"].as_str().unwrap().contains("PNG"), "{body}");
        }
        // Too large: refused with the limit, by declared length and by what arrives.
        let mut big = PNG.to_vec();
        big.resize(MAX + 1, 0);
        let (s, body) = upload(&t, ana_c, room, "big.png", &big).await;
        assert_eq!(s, 413, "{body}");
        assert_eq!(body["message"], "Files are at most 4 KB.");
        let chunked = reqwest::Body::wrap_stream(futures_util::stream::iter(
            big.chunks(1000)
                .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
                .collect::<Vec<_>>(),
        ));
        let res = ana_c
            .post(t.url(&format!("/api/v1/rooms/{room}/attachments?name=big.png")))
            .body(chunked)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status().as_u16(),
            413,
            "a body without a declared length is cut at the limit"
        );
        let (s, _) = upload(&t, ana_c, room, "empty.png", b"").await;
        assert_eq!(s, 422);

        // Uploaded, not yet sent: only the uploader sees it (the composer's preview).
        let (s, dot) = upload(&t, ana_c, room, "../../dot.png", PNG).await;
        assert_eq!(s, 201, "{dot}");
        assert_eq!(dot["name"], "dot.png");
        assert_eq!(dot["mime"], "image/png");
        assert_eq!(
            (dot["width"].as_u64(), dot["height"].as_u64()),
            (Some(1), Some(1))
        );
        assert_eq!(dot["size_bytes"].as_u64(), Some(PNG.len() as u64));
        let dot_id = dot["id"].as_i64().unwrap();
        let url = format!("/api/v1/rooms/{room}/attachments/{dot_id}");
        let fetch = |c: &reqwest::Client| c.get(t.url(&url)).send();
        assert_eq!(fetch(ana_c).await.unwrap().status(), 200);
        assert_eq!(fetch(ben_c).await.unwrap().status(), 404, "not sent yet");

        let (s, pdf) = upload(&t, ana_c, room, "Übung 1.pdf", PDF).await;
        assert_eq!(s, 201, "{pdf}");
        assert_eq!(pdf["width"], Value::Null);
        let pdf_id = pdf["id"].as_i64().unwrap();
        let messages = format!("/api/v1/rooms/{room}/messages");
        let send = |message: Value| t.call(ana_c, Method::POST, &messages, Some(message));
        let (s, sent) =
            send(json!({"client_id": "f1", "body": "", "attachments": [dot_id, pdf_id]})).await;
        assert_eq!(s, 201, "a message of files alone needs no text: {sent}");
        let message_id = sent["id"].as_i64().unwrap();
        assert_eq!(sent["attachments"][0]["id"], dot_id);
        assert_eq!(sent["attachments"][1]["name"], "Übung 1.pdf");
        // Ben is not online: he is told, by the files' names (the message has no text).
        let (_, inbox) = t
            .call(ben_c, Method::GET, "/api/v1/notifications", None)
            .await;
        assert!(
            inbox.to_string().contains("📎 dot.png, Übung 1.pdf"),
            "{inbox}"
        );
        // The same send again is the same message, not a second one.
        let (s, again) =
            send(json!({"client_id": "f1", "body": "", "attachments": [dot_id, pdf_id]})).await;
        assert_eq!((s, again["id"].as_i64()), (201, Some(message_id)));

        // Sent: every member fetches it byte-identical; nobody else learns it exists.
        let mut got = Vec::new();
        for c in &clients {
            got.push(fetch(c).await.unwrap().status().as_u16());
        }
        assert_eq!(got, [401, 200, 200, 404, 404, 404], "fetch as {who:?}");
        let res = fetch(ben_c).await.unwrap();
        let h = res.headers().clone();
        assert_eq!(h["content-type"], "image/png");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline; filename=\"dot.png\""));
        assert!(h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox"));
        assert!(h["cache-control"].to_str().unwrap().starts_with("private"));
        let etag = h["etag"].clone();
        assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);
        let res = ben_c
            .get(t.url(&url))
            .header("if-none-match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 304);
        let res = ben_c
            .get(t.url(&format!("/api/v1/rooms/{room}/attachments/{pdf_id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["content-type"], "application/pdf");
        assert_eq!(
            res.headers()["content-disposition"],
            "attachment; filename=\"_bung 1.pdf\"; filename*=UTF-8''%C3%9Cbung%201.pdf"
        );
        assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);
        // Another room's path does not reach it, and its files do not go into this room's messages.
        let admin_c = &clients[5];
        let (s, channel) = t
            .call(
                admin_c,
                Method::POST,
                "/api/v1/rooms",
                Some(json!({"name": "Help", "members": [ana.id]})),
            )
            .await;
        assert_eq!(s, 201, "{channel}");
        let channel = channel["room"]["id"].as_i64().unwrap();
        let res = ana_c
            .get(t.url(&format!("/api/v1/rooms/{channel}/attachments/{dot_id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "the file is not the channel's");
        let (_, elsewhere) = upload(&t, ana_c, channel, "help.png", PNG).await;
        let (s, _) =
            send(json!({"client_id": "f0", "body": "x", "attachments": [elsewhere["id"]]})).await;
        assert_eq!(s, 422, "a file uploaded to another room");

        // History carries the files.
        let (_, page) = t.call(ben_c, Method::GET, &messages, None).await;
        assert_eq!(
            page["messages"][0]["attachments"].as_array().unwrap().len(),
            2
        );

        // A file goes with one message only, of its own uploader, in its own room.
        let (_, reuse) =
            send(json!({"client_id": "f2", "body": "again", "attachments": [dot_id]})).await;
        assert!(reuse["fields"][0]["field"] == "attachments", "{reuse}");
        let (_, bens) = upload(&t, ben_c, room, "ben.png", PNG).await;
        let (s, _) =
            send(json!({"client_id": "f3", "body": "x", "attachments": [bens["id"]]})).await;
        assert_eq!(s, 422, "another person's upload");
        let (s, _) =
            send(json!({"client_id": "f4", "body": "x", "attachments": [1, 2, 3, 4, 5]})).await;
        assert_eq!(s, 422, "five files");
        let (s, _) = send(json!({"client_id": "f5", "body": "", "attachments": []})).await;
        assert_eq!(s, 422, "no text and no files");

        // Deleted: the file is gone for readers at once; its bytes stay while Ben's upload of the same
        // bytes holds them, and go at the purge once nothing does.
        let (s, _) = t
            .call(
                ana_c,
                Method::DELETE,
                &format!("{messages}/{message_id}"),
                None,
            )
            .await;
        assert_eq!(s, 200);
        assert_eq!(fetch(ben_c).await.unwrap().status(), 404);
        assert_eq!(fetch(ana_c).await.unwrap().status(), 404);
        let (_, page) = t.call(ben_c, Method::GET, &messages, None).await;
        assert_eq!(
            page["messages"][0]["attachments"],
            json!([]),
            "a tombstone has no files"
        );
        let services = t.services();
        let db = services.accounts.db();
        let now = studyhall::server::now_ms();
        assert_eq!(
            studyhall::chat::service::purge_attachments(db, services.chat().files.as_ref(), now)
                .await
                .unwrap(),
            2
        );
        let key = content_key(PNG);
        assert!(
            services.chat().files.get(&key).await.unwrap().is_some(),
            "Ben's unsent copy holds the bytes"
        );
        assert!(
            services
                .chat()
                .files
                .get(&content_key(PDF))
                .await
                .unwrap()
                .is_none(),
            "the PDF is gone"
        );
        // A day later Ben's unsent upload goes too, and with it the last reference.
        let later = now + studyhall::chat::attachments::UNSENT_ATTACHMENT_TTL_MS + 1;
        let purged =
            studyhall::chat::service::purge_attachments(db, services.chat().files.as_ref(), later)
                .await
                .unwrap();
        assert!(
            purged >= 1,
            "Ben's unsent file (and the first uploads, never sent)"
        );
        assert!(services.chat().files.get(&key).await.unwrap().is_none());
        t.stop().await;
    }
);
