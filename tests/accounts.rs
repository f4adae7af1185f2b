//! Repository and service tests for accounts, sessions, the throttle and administration, run on SQLite
//! and on PostgreSQL.

use std::sync::Arc;
use studyhall::accounts::admin;
use studyhall::accounts::service::{Accounts, AuthSettings, Caller};
use studyhall::accounts::throttle::ThrottleSettings;
use studyhall::accounts::tokens::TokenSigner;
use studyhall::accounts::{NewUserInput, ProfileInput, RegisterInput, SessionKind, UserFilter};
use studyhall::both_backends;
use studyhall::chat::service as chat;
use studyhall::chat::RoomKind;
use studyhall::model::Role;
use studyhall::server::realtime::{Hub, HubSettings, InProcessBus};
use studyhall::server::{demo, ClientInfo};
use studyhall::testing::TestDb;
use studyhall::AppError;

const PW: &str = "a long enough password";

fn accounts(t: &TestDb, settings: AuthSettings) -> Accounts {
    Accounts::new(
        t.db.clone(),
        TokenSigner::new(b"test secret test secret test secret!"),
        settings,
    )
}

fn client(ip: &str) -> ClientInfo {
    ClientInfo {
        ip: Some(ip.into()),
        user_agent: Some("tests".into()),
    }
}

fn reg(email: &str, name: &str) -> RegisterInput {
    RegisterInput {
        email: email.into(),
        display_name: name.into(),
        password: PW.into(),
        time_zone: "Europe/Lisbon".into(),
    }
}

async fn caller(a: &Accounts, email: &str) -> Caller {
    let signed = a
        .sign_in(email, PW, SessionKind::Browser, &client("10.0.0.1"))
        .await
        .expect("sign in");
    a.authenticate(&signed.token.token)
        .await
        .expect("authenticate")
        .caller
}

async fn make_admin(t: &TestDb, a: &Accounts) -> Caller {
    studyhall::accounts::service::create_user(
        &t.db,
        "root@example.com",
        "Root",
        PW,
        "UTC",
        Role::Admin,
        None,
    )
    .await
    .unwrap();
    caller(a, "root@example.com").await
}

both_backends!(
    registration_normalises_and_rejects_duplicates,
    |t: TestDb| async move {
        let a = accounts(&t, AuthSettings::default());
        let user = a
            .register(&reg("  Ana@Example.COM ", " Ana "))
            .await
            .unwrap();
        assert_eq!(user.email, "ana@example.com");
        assert_eq!(user.display_name, "Ana");
        assert_eq!(user.role, Role::Student);
        let dup = a
            .register(&reg("ANA@example.com", "Other"))
            .await
            .unwrap_err();
        assert_eq!(
            dup.field_message("email").as_deref(),
            Some("An account with this email already exists.")
        );
        let bad = a
            .register(&RegisterInput {
                email: "nope".into(),
                display_name: "".into(),
                password: "short".into(),
                time_zone: "Mars/Olympus".into(),
            })
            .await
            .unwrap_err();
        for field in ["email", "display_name", "password", "time_zone"] {
            assert!(
                bad.field_message(field).is_some(),
                "{field} should be reported: {bad:?}"
            );
        }
    }
);

both_backends!(sign_in_authenticate_and_sign_out, |t: TestDb| async move {
    let a = accounts(&t, AuthSettings::default());
    a.register(&reg("ben@example.com", "Ben")).await.unwrap();
    assert_eq!(
        a.sign_in(
            "ben@example.com",
            "wrong password!",
            SessionKind::Browser,
            &client("1.1.1.1")
        )
        .await
        .unwrap_err(),
        AppError::InvalidCredentials
    );
    assert_eq!(
        a.sign_in(
            "nobody@example.com",
            PW,
            SessionKind::Browser,
            &client("1.1.1.1")
        )
        .await
        .unwrap_err(),
        AppError::InvalidCredentials
    );
    let signed = a
        .sign_in(
            "BEN@example.com",
            PW,
            SessionKind::Browser,
            &client("1.1.1.1"),
        )
        .await
        .unwrap();
    let auth = a.authenticate(&signed.token.token).await.unwrap();
    assert_eq!(auth.caller.user.email, "ben@example.com");
    assert!(auth.renewed.is_none(), "a fresh token needs no renewal");
    assert_eq!(
        a.authenticate("garbage").await.unwrap_err(),
        AppError::Unauthenticated
    );
    a.sign_out(&auth.caller).await.unwrap();
    assert_eq!(
        a.authenticate(&signed.token.token).await.unwrap_err(),
        AppError::Unauthenticated,
        "a signed-out session is refused at once"
    );
});

both_backends!(
    throttle_locks_account_then_address,
    |t: TestDb| async move {
        let a = accounts(
            &t,
            AuthSettings {
                throttle: ThrottleSettings {
                    max_failures_per_account: 3,
                    max_failures_per_ip: 5,
                    window_ms: 60_000,
                },
                ..AuthSettings::default()
            },
        );
        a.register(&reg("cy@example.com", "Cy")).await.unwrap();
        a.register(&reg("di@example.com", "Di")).await.unwrap();
        for _ in 0..3 {
            let e = a
                .sign_in(
                    "cy@example.com",
                    "bad password!",
                    SessionKind::Browser,
                    &client("2.2.2.2"),
                )
                .await;
            assert_eq!(e.unwrap_err(), AppError::InvalidCredentials);
        }
        // Even the right password is refused while the account is locked, from any address.
        let locked = a
            .sign_in(
                "cy@example.com",
                PW,
                SessionKind::Browser,
                &client("3.3.3.3"),
            )
            .await
            .unwrap_err();
        match &locked {
            AppError::RateLimited {
                message,
                retry_after_secs,
            } => {
                assert!(message.contains("this account"), "{message}");
                assert!(*retry_after_secs > 0 && *retry_after_secs <= 60);
            }
            other => panic!("expected rate limit, got {other:?}"),
        }
        // Another account from another address is unaffected.
        a.sign_in(
            "di@example.com",
            PW,
            SessionKind::Browser,
            &client("3.3.3.3"),
        )
        .await
        .unwrap();
        // Two more failures from 2.2.2.2 (on another account) exhaust the address's budget.
        for _ in 0..2 {
            let _ = a
                .sign_in(
                    "di@example.com",
                    "bad password!",
                    SessionKind::Browser,
                    &client("2.2.2.2"),
                )
                .await;
        }
        let by_ip = a
            .sign_in(
                "di@example.com",
                PW,
                SessionKind::Browser,
                &client("2.2.2.2"),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&by_ip, AppError::RateLimited { message, .. } if message.contains("network")),
            "{by_ip:?}"
        );
    }
);

both_backends!(
    password_change_revokes_other_sessions,
    |t: TestDb| async move {
        let a = accounts(&t, AuthSettings::default());
        a.register(&reg("eve@example.com", "Eve")).await.unwrap();
        let laptop = a
            .sign_in(
                "eve@example.com",
                PW,
                SessionKind::Browser,
                &client("4.4.4.4"),
            )
            .await
            .unwrap();
        let phone = a
            .sign_in(
                "eve@example.com",
                PW,
                SessionKind::Browser,
                &client("5.5.5.5"),
            )
            .await
            .unwrap();
        let me = a.authenticate(&laptop.token.token).await.unwrap().caller;
        assert_eq!(a.my_sessions(&me).await.unwrap().len(), 2);
        let wrong = a
            .change_password(&me, "not my password", "a brand new password")
            .await
            .unwrap_err();
        assert!(wrong.field_message("current_password").is_some());
        let short = a.change_password(&me, PW, "short").await.unwrap_err();
        assert!(short.field_message("new_password").is_some());
        assert_eq!(
            a.change_password(&me, PW, "a brand new password")
                .await
                .unwrap(),
            1
        );
        assert!(
            a.authenticate(&laptop.token.token).await.is_ok(),
            "the current session stays"
        );
        assert_eq!(
            a.authenticate(&phone.token.token).await.unwrap_err(),
            AppError::Unauthenticated
        );
        assert_eq!(
            a.sign_in(
                "eve@example.com",
                PW,
                SessionKind::Browser,
                &client("4.4.4.4")
            )
            .await
            .unwrap_err(),
            AppError::InvalidCredentials
        );
        a.sign_in(
            "eve@example.com",
            "a brand new password",
            SessionKind::Browser,
            &client("4.4.4.4"),
        )
        .await
        .unwrap();
        let updated = a
            .update_profile(
                &me,
                &ProfileInput {
                    display_name: "Eve K".into(),
                    time_zone: "Asia/Tokyo".into(),
                },
            )
            .await
            .unwrap();
        assert_eq!(
            (updated.display_name.as_str(), updated.time_zone.as_str()),
            ("Eve K", "Asia/Tokyo")
        );
    }
);

both_backends!(
    browser_tokens_renew_and_bearer_tokens_expire,
    |t: TestDb| async move {
        // A 4 s browser token is past half its life after 2 s; a 1 s bearer token is dead after 1 s.
        let a = accounts(
            &t,
            AuthSettings {
                token_ttl_ms: 4_000,
                // Token expiry has whole-second precision: 2 s means 1–2 s, so the first check has a
                // second to spare and the one after 2.1 s always sees it expired.
                api_token_ttl_ms: 2_000,
                ..AuthSettings::default()
            },
        );
        a.register(&reg("fay@example.com", "Fay")).await.unwrap();
        let browser = a
            .sign_in(
                "fay@example.com",
                PW,
                SessionKind::Browser,
                &client("6.6.6.6"),
            )
            .await
            .unwrap();
        let api = a
            .sign_in("fay@example.com", PW, SessionKind::Api, &client("6.6.6.6"))
            .await
            .unwrap();
        assert!(a.authenticate(&api.token.token).await.is_ok());
        tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
        let renewed = a
            .authenticate(&browser.token.token)
            .await
            .unwrap()
            .renewed
            .expect("renewed");
        assert!(renewed.expires_at > browser.token.expires_at);
        assert!(a
            .authenticate(&renewed.token)
            .await
            .unwrap()
            .renewed
            .is_none());
        assert_eq!(
            a.authenticate(&api.token.token).await.unwrap_err(),
            AppError::Unauthenticated
        );
    }
);

both_backends!(
    admin_manages_users_and_only_admins_may,
    |t: TestDb| async move {
        let a = accounts(&t, AuthSettings::default());
        let hub = Hub::new(HubSettings::default(), Arc::new(InProcessBus::default()));
        let root = make_admin(&t, &a).await;
        let db = &t.db;
        let student = a.register(&reg("gil@example.com", "Gil")).await.unwrap();
        let me_student = caller(&a, "gil@example.com").await;
        let new_mentor = NewUserInput {
            email: "mia@example.com".into(),
            display_name: "Mia".into(),
            password: PW.into(),
            time_zone: "UTC".into(),
            role: Role::Mentor,
            cohort_id: None,
        };
        assert_eq!(
            admin::create(db, &hub, &me_student, &new_mentor)
                .await
                .unwrap_err(),
            AppError::Forbidden
        );
        assert_eq!(
            admin::list_users(db, &me_student, &UserFilter::default())
                .await
                .unwrap_err(),
            AppError::Forbidden
        );
        let mentor = admin::create(db, &hub, &root, &new_mentor).await.unwrap();
        assert_eq!(mentor.role, Role::Mentor);
        let cohort = admin::create_cohort(db, &root, "Spring").await.unwrap();
        assert!(admin::create_cohort(db, &root, "spring")
            .await
            .unwrap_err()
            .field_message("name")
            .is_some());
        admin::set_cohort(db, &hub, &root, student.id, Some(cohort.id))
            .await
            .unwrap();
        admin::set_mentors(db, &hub, &root, student.id, &[mentor.id])
            .await
            .unwrap();
        // Chat follows: the cohort's room holds the student and their mentor, who also share a
        // direct room; moved out of the cohort, the student leaves its room (the mentor too, who no
        // longer mentors anyone in it).
        let rooms = |c: Caller| async move {
            let mut kinds: Vec<_> = chat::list(db, &c)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.room.kind)
                .collect();
            kinds.sort_by_key(|k| k.as_str());
            kinds
        };
        let me_mentor = caller(&a, "mia@example.com").await;
        assert_eq!(
            rooms(me_student.clone()).await,
            [RoomKind::Cohort, RoomKind::Direct]
        );
        assert_eq!(
            rooms(me_mentor.clone()).await,
            [RoomKind::Cohort, RoomKind::Direct]
        );
        admin::set_cohort(db, &hub, &root, student.id, None)
            .await
            .unwrap();
        assert_eq!(rooms(me_student.clone()).await, [RoomKind::Direct]);
        assert_eq!(rooms(me_mentor).await, [RoomKind::Direct]);
        admin::set_cohort(db, &hub, &root, student.id, Some(cohort.id))
            .await
            .unwrap();
        assert!(
            admin::set_mentors(db, &hub, &root, student.id, &[root.user.id])
                .await
                .is_err(),
            "admins are not mentors"
        );
        assert!(
            admin::set_mentors(db, &hub, &root, mentor.id, &[mentor.id])
                .await
                .is_err(),
            "mentors have no mentors"
        );

        let page = admin::list_users(
            db,
            &root,
            &UserFilter {
                search: Some("GIL".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(page.total, 1);
        let row = &page.items[0];
        assert_eq!(row.user.id, student.id);
        assert_eq!(row.cohort_name.as_deref(), Some("Spring"));
        assert_eq!(row.mentor_ids, vec![mentor.id]);
        assert_eq!(row.active_sessions, 1);
        let mentors = admin::list_users(
            db,
            &root,
            &UserFilter {
                role: Some(Role::Mentor),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            mentors.items.iter().map(|r| r.user.id).collect::<Vec<_>>(),
            vec![mentor.id]
        );

        // Disabling ends the student's sessions and blocks sign-in.
        assert!(matches!(
            admin::set_disabled(db, &hub, &root, root.user.id, true).await,
            Err(AppError::Conflict { .. })
        ));
        admin::set_disabled(db, &hub, &root, student.id, true)
            .await
            .unwrap();
        assert_eq!(
            a.sign_in(
                "gil@example.com",
                PW,
                SessionKind::Browser,
                &client("7.7.7.7")
            )
            .await
            .unwrap_err(),
            AppError::AccountDisabled
        );
        admin::set_disabled(db, &hub, &root, student.id, false)
            .await
            .unwrap();
        let again = caller(&a, "gil@example.com").await;
        assert_eq!(
            admin::revoke_sessions(db, &root, student.id).await.unwrap(),
            1
        );
        assert!(a.my_sessions(&again).await.unwrap().is_empty());

        // A student promoted to mentor loses their own mentors.
        admin::set_role(db, &hub, &root, student.id, Role::Mentor)
            .await
            .unwrap();
        assert!(studyhall::accounts::users::mentors_of(db, student.id)
            .await
            .unwrap()
            .is_empty());
    }
);

both_backends!(demo_data_seeds_once, |t: TestDb| async move {
    let first = demo::seed_if_empty(&t.db).await.unwrap();
    assert!(first.iter().any(|l| l.role == Role::Admin));
    assert_eq!(studyhall::accounts::users::count(&t.db).await.unwrap(), 15);
    assert!(demo::seed_if_empty(&t.db).await.unwrap().is_empty());
    let a = accounts(&t, AuthSettings::default());
    let signed = a
        .sign_in(
            &first[0].email,
            demo::DEMO_PASSWORD,
            SessionKind::Browser,
            &client("8.8.8.8"),
        )
        .await
        .unwrap();
    assert_eq!(signed.user.role, Role::Admin);

    // The demo is alive: history, streaks, goals and skills, a feed, and notifications.
    let ana = studyhall::accounts::users::find_with_hash(&t.db, "ana@studyhall.test")
        .await
        .unwrap()
        .unwrap()
        .0;
    let ana = a
        .authenticate(
            &a.sign_in(
                &ana.email,
                demo::DEMO_PASSWORD,
                SessionKind::Browser,
                &client("8.8.8.8"),
            )
            .await
            .unwrap()
            .token
            .token,
        )
        .await
        .unwrap()
        .caller;
    let snap = studyhall::learning::service::snapshot(&t.db, &ana)
        .await
        .unwrap();
    assert!(snap.sessions.len() >= 15, "{}", snap.sessions.len());
    assert!(snap.analytics.current_streak >= 3, "{:?}", snap.analytics);
    assert_eq!(
        (snap.analytics.goals_set, snap.analytics.goals_completed),
        (2, 1)
    );
    assert_eq!(snap.skills.len(), 2);
    let inbox = studyhall::notifications::service::snapshot(&t.db, &ana)
        .await
        .unwrap();
    let titles: Vec<&str> = inbox.items.iter().map(|n| n.title.as_str()).collect();
    for expected in [
        "Welcome to Studyhall",
        "Office hours on Thursday",
        "3-day streak!",
    ] {
        assert!(titles.contains(&expected), "{expected} in {titles:?}");
    }
    let feed = studyhall::feed::service::list(&t.db, &ana, &Default::default())
        .await
        .unwrap();
    assert!(feed.items.len() >= 20, "{}", feed.items.len());
    let times: Vec<i64> = feed.items.iter().map(|a| a.created_at).collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first by time too"
    );
});

both_backends!(
    guessing_the_current_password_is_throttled,
    |t: TestDb| async move {
        let a = accounts(&t, AuthSettings::default());
        a.register(&reg("gia@example.com", "Gia")).await.unwrap();
        let me = caller(&a, "gia@example.com").await;
        for _ in 0..5 {
            let e = a
                .change_password(&me, "a wrong guess!!", "a brand new password")
                .await
                .unwrap_err();
            assert!(e.field_message("current_password").is_some());
        }
        let limited = a
            .change_password(&me, PW, "a brand new password")
            .await
            .unwrap_err();
        assert!(
            matches!(limited, AppError::RateLimited { .. }),
            "{limited:?}"
        );
    }
);
