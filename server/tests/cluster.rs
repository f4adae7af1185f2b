//! Several nodes: real server processes on one PostgreSQL database, with a Redis of the test's own
//! between them, all on loopback and bounded in time. Numbers follow the list in the scale-out issue.

mod common;

use common::cluster::Cluster;
use common::ws::{connect, refused, Client};
use reqwest::Method;
use serde_json::json;
use std::collections::HashSet;
use std::time::{Duration, Instant};
use studyhall::model::Role;
use studyhall::protocol::{close, ErrorCode, ServerMessage, Topic};

/// An admin and `students` students, with a channel holding all of them: (admin token, ids, room).
async fn room_with(c: &Cluster, students: &[&str]) -> (String, Vec<i64>, i64) {
    c.create_user("root@example.com", Role::Admin).await;
    let admin = c.token(0, "root@example.com").await;
    let mut ids = Vec::new();
    for email in students {
        ids.push(c.create_user(email, Role::Student).await.id);
    }
    let (status, room) = c
        .call(
            0,
            &admin,
            Method::POST,
            "/api/v1/rooms",
            json!({"name": "Everyone", "members": ids}),
        )
        .await;
    assert_eq!(status, 201, "{room}");
    (admin, ids, room["room"]["id"].as_i64().unwrap())
}

/// Reads `topic`'s events until `want` of the named event arrived (or `within` passed): every
/// offset once, in order, with no gap; returns the events' data.
async fn collect(
    client: &mut Client,
    topic: Topic,
    name: &str,
    want: usize,
    within: Duration,
    mut last: i64,
) -> Vec<serde_json::Value> {
    let deadline = tokio::time::Instant::now() + within;
    let mut got = Vec::new();
    while got.len() < want {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let Some(message) = client.try_recv(left).await else {
            break;
        };
        if let ServerMessage::Event {
            topic: t,
            offset,
            event,
            data,
            ..
        } = message
        {
            if t != topic {
                continue;
            }
            assert_eq!(offset, last + 1, "offsets once, in order, no gap");
            last = offset;
            if event == name {
                got.push(data);
            }
        }
    }
    got
}

fn subscribed_offset(m: &ServerMessage) -> i64 {
    match m {
        ServerMessage::Subscribed { offset, .. } => *offset,
        other => panic!("expected subscribed, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t1_messages_posted_on_each_node_reach_every_client_once_in_order() {
    let c = Cluster::start(3, &[]).await;
    c.wait_connected().await;
    let emails = ["ana@example.com", "ben@example.com", "cy@example.com"];
    let (_, _, room) = room_with(&c, &emails).await;
    let topic = Topic::Room(room);
    let mut clients = Vec::new();
    let mut tokens = Vec::new();
    for (i, email) in emails.iter().enumerate() {
        let token = c.token(i, email).await;
        let mut client = connect(&c.ws_url(i), &token).await;
        let at = subscribed_offset(&client.subscribe(&topic.to_string(), None).await);
        clients.push((client, at));
        tokens.push(token);
    }
    // Each member posts ten messages through their own node, the three at once.
    let posts = (0..3).map(|i| {
        let (c, token) = (&c, tokens[i].clone());
        async move {
            for n in 0..10 {
                let (status, body) = c
                    .call(
                        i,
                        &token,
                        Method::POST,
                        &format!("/api/v1/rooms/{room}/messages"),
                        json!({"client_id": format!("m-{i}-{n}"), "body": format!("hello {n} from node {i}")}),
                    )
                    .await;
                assert_eq!(status, 201, "{body}");
            }
        }
    });
    futures_util::future::join_all(posts).await;
    let want: HashSet<String> = (0..3)
        .flat_map(|i| (0..10).map(move |n| format!("m-{i}-{n}")))
        .collect();
    for (i, (client, at)) in clients.iter_mut().enumerate() {
        let got = collect(
            client,
            topic,
            "chat.message.posted",
            30,
            Duration::from_secs(10),
            *at,
        )
        .await;
        let ids: Vec<String> = got
            .iter()
            .map(|m| m["client_id"].as_str().unwrap_or_default().to_string())
            .collect();
        assert_eq!(ids.len(), 30, "client on node {i} got {ids:?}");
        assert_eq!(ids.iter().cloned().collect::<HashSet<_>>(), want);
        // Each sender's messages in the order sent.
        for sender in 0..3 {
            let mine: Vec<&String> = ids
                .iter()
                .filter(|id| id.starts_with(&format!("m-{sender}-")))
                .collect();
            let sorted: Vec<String> = (0..10).map(|n| format!("m-{sender}-{n}")).collect();
            assert_eq!(mine, sorted.iter().collect::<Vec<_>>());
        }
        no_more_events(client, topic, Duration::from_millis(300)).await;
    }
}

/// Reads for `wait`: no event of `topic` may come (presence and other frames may).
async fn no_more_events(client: &mut Client, topic: Topic, wait: Duration) {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match client.try_recv(left).await {
            None => return,
            Some(ServerMessage::Event {
                topic: t, offset, ..
            }) if t == topic => {
                panic!("event {offset} arrived twice or out of place")
            }
            Some(_) => {}
        }
    }
}

/// Waits for a presence diff on `topic` naming `user` as `joined` or `left`; how long it took.
async fn presence_change(
    client: &mut Client,
    topic: Topic,
    user: i64,
    joined: bool,
    within: Duration,
) -> Duration {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match client.try_recv(left).await {
            None => panic!(
                "no {} of user {user} within {within:?}",
                if joined { "join" } else { "leave" }
            ),
            Some(ServerMessage::PresenceDiff {
                topic: t,
                joined: j,
                left: l,
                ..
            }) if t == topic => {
                let list = if joined { &j } else { &l };
                if list.contains(&user) {
                    return started.elapsed();
                }
                let other = if joined { &l } else { &j };
                assert!(!other.contains(&user), "user {user} flapped");
            }
            Some(_) => {}
        }
    }
}

/// Reads for `wait`: no presence change of `user` on `topic` may come.
async fn no_presence_change(client: &mut Client, topic: Topic, user: i64, wait: Duration) {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match client.try_recv(left).await {
            None => return,
            Some(ServerMessage::PresenceDiff {
                topic: t,
                joined,
                left,
                ..
            }) if t == topic => {
                assert!(
                    !joined.contains(&user) && !left.contains(&user),
                    "user {user} should stay as they were"
                );
            }
            Some(_) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t2_tabs_on_two_nodes_are_one_presence_and_a_dead_nodes_users_leave() {
    let ttl = Duration::from_secs(3);
    let mut c = Cluster::start(3, &[("STUDYHALL_NODE_TTL", "3s")]).await;
    c.wait_connected().await;
    let (_, ids, room) = room_with(&c, &["ana@example.com", "ben@example.com"]).await;
    let (ana, ben) = (ids[0], ids[1]);
    let topic = Topic::Room(room);
    let name = topic.to_string();
    let ben_token = c.token(2, "ben@example.com").await;
    let mut watcher = connect(&c.ws_url(2), &ben_token).await;
    watcher.subscribe(&name, None).await;
    let ana_token = c.token(0, "ana@example.com").await;
    let mut tab_a = connect(&c.ws_url(0), &ana_token).await;
    tab_a.subscribe(&name, None).await;
    match tab_a.recv().await {
        ServerMessage::Presence { present, .. } => {
            assert_eq!(present, [ana, ben], "Ben on node 2 is listed on node 0")
        }
        other => panic!("expected presence, got {other:?}"),
    }
    presence_change(&mut watcher, topic, ana, true, Duration::from_secs(5)).await;
    let mut tab_b = connect(&c.ws_url(1), &ana_token).await;
    tab_b.subscribe(&name, None).await;
    no_presence_change(&mut watcher, topic, ana, Duration::from_millis(500)).await;
    drop(tab_a);
    no_presence_change(&mut watcher, topic, ana, Duration::from_millis(800)).await;
    let before = studyhall::server::now_ms();
    c.kill(1);
    let took = presence_change(
        &mut watcher,
        topic,
        ana,
        false,
        ttl + Duration::from_secs(4),
    )
    .await;
    assert!(
        took <= ttl + Duration::from_millis(2500),
        "Ana left {took:?} after her node died (TTL {ttl:?}, heartbeat 1 s)"
    );
    drop(tab_b);
    let seen = studyhall::accounts::users::find(&c.db.db, ana)
        .await
        .unwrap()
        .unwrap()
        .last_seen_at
        .expect("last-seen stored for a dead node's user");
    assert!(
        (before - ttl.as_millis() as i64 - 2000..=studyhall::server::now_ms()).contains(&seen),
        "last seen {seen}, node killed at {before}"
    );
    let health = c.health(2).await;
    assert_eq!(health["other_nodes"], json!(["node-0"]), "{health}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t4_a_redis_restart_under_traffic_pauses_delivery_and_loses_nothing() {
    let mut c = Cluster::start(2, &[]).await;
    c.wait_connected().await;
    c.create_user("root@example.com", Role::Admin).await;
    let admin = c.token(0, "root@example.com").await;
    let mut readers = Vec::new();
    for i in 0..10 {
        let email = format!("s{i}@example.com");
        c.create_user(&email, Role::Student).await;
        let token = c.token(i % 2, &email).await;
        let mut client = connect(&c.ws_url(i % 2), &token).await;
        let at = subscribed_offset(&client.subscribe("announcements", None).await);
        readers.push((client, at, 0));
    }
    async fn post(c: &Cluster, admin: &str, n: usize) {
        {
            let (status, body) = c
                .call(
                    n % 2,
                    admin,
                    Method::POST,
                    "/api/v1/announcements",
                    json!({"title": format!("Notice {n}"), "body": "Read me."}),
                )
                .await;
            assert_eq!(
                status, 201,
                "post {n} acknowledged even while Redis is away: {body}"
            );
        }
    }
    // Every reader has every event so far, each once and in order; returns how long the last
    // ones took to arrive after the last post.
    async fn all_arrived(readers: &mut [(Client, i64, usize)], n: usize, phase: &str) -> Duration {
        let started = Instant::now();
        for (i, (client, last, have)) in readers.iter_mut().enumerate() {
            let want = n - *have;
            let got = collect(
                client,
                Topic::Announcements,
                "announcement.created",
                want,
                Duration::from_secs(15),
                *last,
            )
            .await;
            assert_eq!(
                got.len(),
                want,
                "{phase}: reader {i} got {} of {want}",
                got.len()
            );
            *last += want as i64;
            *have = n;
        }
        started.elapsed()
    }
    let mut n = 0;
    let traffic = async |c: &Cluster, n: &mut usize, ms: u64| {
        let until = Instant::now() + Duration::from_millis(ms);
        while Instant::now() < until {
            post(c, &admin, *n).await;
            *n += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    // 1.5 s of traffic at about 50 a second through both nodes.
    traffic(&c, &mut n, 1500).await;
    all_arrived(&mut readers, n, "with Redis").await;
    // Redis gone: posts are still acknowledged, and each node's catch-up brings the other node's
    // events from the log.
    c.redis.kill();
    traffic(&c, &mut n, 1000).await;
    let took = all_arrived(&mut readers, n, "without Redis").await;
    eprintln!("without Redis, the last events reached every reader {took:?} after the last post");
    // Redis back, empty: live delivery resumes.
    c.redis.start_again().await;
    traffic(&c, &mut n, 1500).await;
    all_arrived(&mut readers, n, "after Redis returned").await;
    for (client, ..) in readers.iter_mut() {
        no_more_events(client, Topic::Announcements, Duration::from_millis(200)).await;
    }
    c.wait_connected().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t5_each_job_runs_on_one_node_and_another_takes_over_when_it_dies() {
    let mut c = Cluster::start(3, &[("STUDYHALL_JOBS_INTERVAL", "1s")]).await;
    c.wait_connected().await;
    let leader = async |c: &Cluster| -> Vec<usize> {
        let mut holders = Vec::new();
        for i in 0..c.nodes.len() {
            if c.nodes[i].alive() && c.health(i).await["runs_jobs"] == true {
                holders.push(i);
            }
        }
        holders
    };
    let mut first = Vec::new();
    for _ in 0..50 {
        first = leader(&c).await;
        if !first.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(first.len(), 1, "exactly one node runs the jobs: {first:?}");
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(leader(&c).await, first, "and keeps them");
    let runs = studyhall::server::cluster::job_runs::list(&c.db.db)
        .await
        .unwrap();
    let nodes: HashSet<&str> = runs.iter().map(|(_, node, ..)| node.as_str()).collect();
    let expected = format!("node-{}", first[0]);
    assert_eq!(nodes, HashSet::from([expected.as_str()]), "{runs:?}");
    for job in ["live", "clean-up"] {
        let n = runs.iter().find(|(j, ..)| j == job).map_or(0, |r| r.2);
        assert!(n >= 2, "{job} ran {n} times in ~4 s");
    }
    let killed_at = Instant::now();
    c.kill(first[0]);
    let mut next = Vec::new();
    while killed_at.elapsed() < Duration::from_secs(10) {
        next = leader(&c).await;
        if !next.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let took = killed_at.elapsed();
    assert_eq!(next.len(), 1, "one node took over: {next:?}");
    assert!(took < Duration::from_secs(5), "took over after {took:?}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let runs = studyhall::server::cluster::job_runs::list(&c.db.db)
        .await
        .unwrap();
    let by_new = format!("node-{}", next[0]);
    assert!(
        runs.iter()
            .any(|(j, node, n, _)| j == "live" && *node == by_new && *n >= 1),
        "{runs:?}"
    );
    let others = runs
        .iter()
        .filter(|(_, node, ..)| *node != by_new && *node != expected)
        .count();
    assert_eq!(others, 0, "no third node ran a job: {runs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t6_the_connection_cap_and_the_publish_rate_count_every_node() {
    let c = Cluster::start(
        2,
        &[
            ("STUDYHALL_WS_MAX_CONNECTIONS_PER_USER", "3"),
            ("STUDYHALL_WS_PUBLISHES_PER_MINUTE", "4"),
        ],
    )
    .await;
    c.wait_connected().await;
    let (_, _, room) = room_with(&c, &["ana@example.com"]).await;
    let token = c.token(0, "ana@example.com").await;
    let mut held = vec![
        connect(&c.ws_url(0), &token).await,
        connect(&c.ws_url(0), &token).await,
        connect(&c.ws_url(1), &token).await,
    ];
    assert_eq!(
        refused(&c.ws_url(1), &token).await,
        close::TOO_MANY_CONNECTIONS,
        "a fourth connection, on the node holding one, is over the cap of three"
    );
    assert_eq!(
        refused(&c.ws_url(0), &token).await,
        close::TOO_MANY_CONNECTIONS
    );
    drop(held.remove(0));
    let mut fourth = None;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Ok(mut client) =
            common::ws::try_connect(&c.ws_url(1), common::ws::Auth::Bearer(&token)).await
        {
            if matches!(
                client.try_recv(Duration::from_secs(2)).await,
                Some(ServerMessage::Welcome { .. })
            ) {
                fourth = Some(client);
                break;
            }
        }
    }
    held.push(fourth.expect("a slot frees up once a connection closes"));
    // Four typing events a minute for the user, whichever node and connection sends them. The
    // count is per clock minute: not within two seconds of the next one.
    let into_minute = studyhall::server::now_ms() % 60_000;
    if into_minute > 57_000 {
        tokio::time::sleep(Duration::from_millis((60_500 - into_minute) as u64)).await;
    }
    let name = Topic::Room(room).to_string();
    for client in held.iter_mut() {
        client.subscribe(&name, None).await;
    }
    let mut answers = Vec::new();
    for n in 0..6 {
        let which = n % held.len();
        let client = &mut held[which];
        client
            .send(json!({"type": "publish", "id": format!("p{n}"), "topic": name, "event": "typing", "data": {}}))
            .await;
        loop {
            match client.recv().await {
                ServerMessage::Published { .. } => {
                    answers.push(None);
                    break;
                }
                ServerMessage::Error { code, .. } => {
                    answers.push(Some(code));
                    break;
                }
                _ => {}
            }
        }
    }
    assert_eq!(
        answers,
        [
            None,
            None,
            None,
            None,
            Some(ErrorCode::RateLimited),
            Some(ErrorCode::RateLimited)
        ],
        "each connection sent at most two: only the count across nodes stops the fifth"
    );
}

/// What one following client saw: the offsets of `announcements` events in the order received,
/// the titles, how often it reconnected, and anything that broke the rules.
#[derive(Default)]
struct Followed {
    offsets: Vec<i64>,
    titles: Vec<String>,
    reconnects: u32,
    broken: Vec<String>,
}

/// A client of `announcements` through `url` that, like the browser's, reconnects whenever its
/// socket ends and resumes from its cursor; it stops once it has reached `target` (set when the
/// publisher is done) or at `deadline`.
async fn follow(
    url: String,
    token: String,
    target: std::sync::Arc<std::sync::atomic::AtomicI64>,
    ready: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    deadline: Instant,
) -> Followed {
    use futures_util::{SinkExt, StreamExt};
    use std::sync::atomic::Ordering;
    use tokio_tungstenite::tungstenite::Message;
    let mut seen = Followed::default();
    let mut cursor: Option<(String, i64)> = None;
    let done = |cursor: &Option<(String, i64)>| {
        let t = target.load(Ordering::Acquire);
        t > 0 && cursor.as_ref().is_some_and(|c| c.1 >= t)
    };
    'connect: while Instant::now() < deadline && !done(&cursor) {
        let Ok(mut client) = common::ws::try_connect(&url, common::ws::Auth::Bearer(&token)).await
        else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let mut subscribe = json!({"type": "subscribe", "id": "a", "topic": "announcements"});
        if let Some((epoch, offset)) = &cursor {
            subscribe["since"] = json!({"epoch": epoch, "offset": offset});
        }
        if client
            .stream
            .send(Message::text(subscribe.to_string()))
            .await
            .is_err()
        {
            seen.reconnects += 1;
            continue;
        }
        loop {
            if done(&cursor) || Instant::now() >= deadline {
                break 'connect;
            }
            let next = tokio::time::timeout(Duration::from_millis(200), client.stream.next()).await;
            let text = match next {
                Err(_) => continue,
                Ok(Some(Ok(Message::Text(text)))) => text,
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                Ok(_) => {
                    // Closed, reset or refused (the node died): back through nginx to another.
                    seen.reconnects += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue 'connect;
                }
            };
            match studyhall::protocol::decode_server(text.as_str()) {
                Ok(ServerMessage::Subscribed { epoch, offset, .. }) => {
                    if cursor.is_none() {
                        cursor = Some((epoch, offset));
                        ready.fetch_add(1, Ordering::AcqRel);
                    }
                }
                Ok(ServerMessage::Event {
                    topic: Topic::Announcements,
                    epoch,
                    offset,
                    data,
                    ..
                }) => {
                    let Some(c) = cursor.as_mut() else {
                        seen.broken
                            .push(format!("event {offset} before subscribed"));
                        continue;
                    };
                    if epoch != c.0 || offset != c.1 + 1 {
                        seen.broken.push(format!("after {} came {offset}", c.1));
                    }
                    c.1 = c.1.max(offset);
                    seen.offsets.push(offset);
                    seen.titles
                        .push(data["title"].as_str().unwrap_or_default().to_string());
                }
                Ok(ServerMessage::Reset { reason, .. }) => {
                    seen.broken.push(format!("reset: {reason:?}"));
                }
                Ok(_) => {}
                Err(e) => seen.broken.push(format!("bad frame: {e:?}")),
            }
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t3_a_node_killed_under_traffic_behind_nginx_loses_no_event_and_no_acknowledged_write() {
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::Arc;
    let mut c = Cluster::start(3, &[("STUDYHALL_WS_MAX_CONNECTIONS_PER_USER", "100")]).await;
    c.wait_connected().await;
    let nginx = common::cluster::Nginx::start(&c.nodes.iter().collect::<Vec<_>>()).await;
    c.create_user("root@example.com", Role::Admin).await;
    let admin = c.token(0, "root@example.com").await;
    let mut tokens = Vec::new();
    for i in 0..10 {
        let email = format!("s{i}@example.com");
        c.create_user(&email, Role::Student).await;
        tokens.push(c.token(0, &email).await);
    }
    // 300 clients through nginx (least connections: about 100 on each node).
    let target = Arc::new(AtomicI64::new(0));
    let ready = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut followers = Vec::new();
    for n in 0..300 {
        followers.push(tokio::spawn(follow(
            nginx.ws_url(),
            tokens[n % tokens.len()].clone(),
            target.clone(),
            ready.clone(),
            deadline,
        )));
    }
    // Every client subscribed before the first post.
    let head = async |c: &Cluster| {
        studyhall::server::realtime::log::head(&c.db.db, Topic::Announcements)
            .await
            .unwrap()
            .head
    };
    let start = head(&c).await;
    let waited = Instant::now();
    while ready.load(Ordering::Acquire) < 300 {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "only {} of 300 clients subscribed",
            ready.load(Ordering::Acquire)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // 50 posts a second through nginx for 4 s; node 1 is killed after 1.5 s.
    let http = reqwest::Client::new();
    let mut acknowledged = Vec::new();
    let mut unanswered = 0;
    let began = Instant::now();
    let mut killed = false;
    for n in 0..200 {
        if !killed && began.elapsed() >= Duration::from_millis(1500) {
            c.kill(1);
            killed = true;
        }
        let title = format!("Post {n}");
        let res = http
            .post(nginx.url("/api/v1/announcements"))
            .bearer_auth(&admin)
            .json(&json!({"title": title, "body": "Under traffic."}))
            .send()
            .await;
        match res {
            Ok(r) if r.status() == 201 => acknowledged.push(title),
            _ => unanswered += 1,
        }
        let next = began + Duration::from_millis(20 * (n + 1));
        tokio::time::sleep_until(next.into()).await;
    }
    let end = head(&c).await;
    target.store(end, Ordering::Release);
    let mut reconnected = 0;
    for (i, follower) in followers.into_iter().enumerate() {
        let seen = follower.await.unwrap();
        assert!(seen.broken.is_empty(), "client {i}: {:?}", seen.broken);
        let want: Vec<i64> = (start + 1..=end).collect();
        assert_eq!(
            seen.offsets, want,
            "client {i} (reconnected {} times) has every event once, in order",
            seen.reconnects
        );
        if i == 0 {
            let titles: HashSet<&String> = seen.titles.iter().collect();
            for title in &acknowledged {
                assert!(titles.contains(title), "acknowledged {title} never arrived");
            }
        }
        reconnected += u32::from(seen.reconnects > 0);
    }
    eprintln!(
        "{} posts acknowledged, {unanswered} not (the node died under them), {} events; \
         {reconnected} of 300 clients reconnected through nginx",
        acknowledged.len(),
        end - start
    );
    assert!(
        reconnected >= 50,
        "the killed node's clients (about a third) had to reconnect: {reconnected}"
    );
    assert!(
        acknowledged.len() >= 150,
        "most posts were acknowledged: {}",
        acknowledged.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t8_a_board_on_one_node_follows_learning_logged_on_another() {
    let c = Cluster::start(2, &[]).await;
    c.wait_connected().await;
    c.create_user("ana@example.com", Role::Student).await;
    let on_0 = c.token(0, "ana@example.com").await;
    let on_1 = c.token(1, "ana@example.com").await;
    let board = async |c: &Cluster| {
        c.call(
            0,
            &on_0,
            Method::GET,
            "/api/v1/leaderboards/school/week",
            json!(null),
        )
        .await
        .1
    };
    assert_eq!(
        board(&c).await["ranked"],
        0,
        "node 0 holds the board, empty"
    );
    let today = studyhall::learning::analytics::format_day(
        studyhall::learning::analytics::local_day("UTC", studyhall::server::now_ms()),
    );
    let (s, _) = c
        .call(
            1,
            &on_1,
            Method::POST,
            "/api/v1/learning/sessions",
            json!({"day": today, "minutes": 35, "topic": "Rust"}),
        )
        .await;
    assert_eq!(s, 201);
    for _ in 0..100 {
        let b = board(&c).await;
        if b["ranked"] == 1 {
            assert_eq!(b["rows"][0]["points"], 35);
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("node 0's board never saw the session logged on node 1");
}
