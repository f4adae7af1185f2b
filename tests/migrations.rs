//! The two migration folders describe one schema: they must list the same files, in the same order.

use std::path::Path;

fn migration_names(backend: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn both_backends_have_the_same_migrations() {
    let sqlite = migration_names("sqlite");
    let postgres = migration_names("postgres");
    assert!(!sqlite.is_empty(), "no migrations found");
    let only_sqlite: Vec<_> = sqlite.iter().filter(|n| !postgres.contains(n)).collect();
    let only_postgres: Vec<_> = postgres.iter().filter(|n| !sqlite.contains(n)).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "migrations/sqlite and migrations/postgres must list the same files \
         (only in sqlite: {only_sqlite:?}, only in postgres: {only_postgres:?})"
    );
}

#[test]
fn migration_names_are_numbered_without_gaps() {
    for (i, name) in migration_names("sqlite").iter().enumerate() {
        let (number, rest) = name.split_once('_').unwrap_or((name, ""));
        assert_eq!(
            number,
            format!("{:04}", i + 1),
            "{name}: migrations are NNNN_description.sql, numbered from 0001 without gaps"
        );
        assert!(
            rest.ends_with(".sql") && rest.len() > ".sql".len(),
            "{name}: a description and .sql"
        );
    }
}
