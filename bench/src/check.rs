//! What a run must show whatever the machine: every scenario ran, and Studyhall lost, doubled and
//! dropped nothing (on two nodes too, across the one the cluster scenario kills). No figure is
//! compared with a threshold (speed is reported, never asserted). The reference's losses are reported,
//! not checked.

use serde_json::Value;

/// The problems in a report, empty when there are none. Only the scenarios the report holds count.
pub fn problems(report: &Value) -> Vec<String> {
    let mut found = Vec::new();
    for scenario in [
        "idle",
        "fanout",
        "fanout_large",
        "chat",
        "chat_queries",
        "storm",
        "cluster",
    ] {
        let Some(systems) = report.get(scenario).and_then(Value::as_object) else {
            continue;
        };
        for (system, figures) in systems {
            if let Some(error) = figures.get("error") {
                found.push(format!("{scenario} on {system} failed: {error}"));
            }
        }
    }
    let studyhall = |scenario: &str| {
        report
            .get(scenario)
            .and_then(|s| s.get("studyhall"))
            .filter(|f| f.get("error").is_none())
    };
    let int = |figures: &Value, name: &str| figures.get(name).and_then(Value::as_i64);
    if let Some(idle) = studyhall("idle") {
        if int(idle, "held") != int(idle, "attempted_max") {
            found.push(format!(
                "idle: Studyhall held {:?} of {:?} connections",
                int(idle, "held"),
                int(idle, "attempted_max")
            ));
        }
    }
    for scenario in ["fanout", "fanout_large", "chat"] {
        let Some(fanout) = studyhall(scenario) else {
            continue;
        };
        if !fanout
            .get("sustained_delivered_per_sec")
            .and_then(Value::as_f64)
            .is_some_and(|rate| rate > 0.0)
        {
            found.push(format!("{scenario}: Studyhall sustained no rate"));
        }
    }
    if let Some(storm) = studyhall("storm") {
        for (name, want) in [("events_lost", Some(0)), ("duplicates", Some(0))] {
            if int(storm, name) != want {
                found.push(format!("storm: Studyhall {name} = {:?}", int(storm, name)));
            }
        }
        if int(storm, "connections_complete") != int(storm, "connections") {
            found.push(format!(
                "storm: {:?} of Studyhall's {:?} connections recovered",
                int(storm, "connections_complete"),
                int(storm, "connections")
            ));
        }
    }
    if let Some(cluster) = studyhall("cluster") {
        // Every member of every fan-out (one node, two nodes) and every connection of the node kill
        // counts what it never got and what it got twice.
        for part in ["one_node", "two_nodes", "node_kill"] {
            for name in ["events_lost", "duplicates"] {
                let value = int(&cluster[part], name);
                if value != Some(0) {
                    found.push(format!("cluster: Studyhall {part} {name} = {value:?}"));
                }
            }
        }
        let kill = &cluster["node_kill"];
        if int(kill, "connections_complete") != int(kill, "connections") {
            found.push(format!(
                "cluster: {:?} of Studyhall's {:?} connections had every event after the node kill",
                int(kill, "connections_complete"),
                int(kill, "connections")
            ));
        }
        if int(kill, "connections_cut").unwrap_or(0) == 0 {
            found.push(
                "cluster: the node kill cut no Studyhall connection, so it tested nothing".into(),
            );
        }
    }
    if let Some(ssr) = report.get("ssr") {
        for page in ["dashboard", "sign_in", "bare_axum"] {
            let figures = &ssr[page];
            if int(figures, "errors") != Some(0) || int(figures, "requests").unwrap_or(0) == 0 {
                found.push(format!(
                    "ssr: {page} had {:?} errors in {:?} requests",
                    int(figures, "errors"),
                    int(figures, "requests")
                ));
            }
        }
        if int(&report["first_load"], "wasm_bytes").unwrap_or(0) == 0 {
            found.push("first load: no WASM found in the dashboard's page".into());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::problems;
    use serde_json::{json, Value};

    /// The shape of a full run's report, with figures that hold nothing wrong.
    fn sound_report() -> Value {
        let ssr_page = json!({"requests": 100, "errors": 0, "requests_per_sec": 10.0});
        json!({
            "idle": {
                "studyhall": {"held": 19_500, "attempted_max": 19_500},
                "socketio": {"held": 19_432, "attempted_max": 19_500},
            },
            "fanout": {
                "studyhall": {"sustained_delivered_per_sec": 57_000.0},
                "socketio": {"sustained_delivered_per_sec": 47_000.0},
            },
            "storm": {
                "studyhall": {"connections": 10_000, "connections_complete": 10_000,
                              "events_lost": 0, "duplicates": 0},
                "socketio": {"connections": 10_000, "connections_complete": 107,
                             "events_lost": 164_994, "duplicates": 0},
            },
            "ssr": {"dashboard": ssr_page, "sign_in": ssr_page, "bare_axum": ssr_page},
            "first_load": {"wasm_bytes": 378_782},
            "cluster": {
                "studyhall": {
                    "one_node": {"events_lost": 0, "duplicates": 0},
                    "two_nodes": {"events_lost": 0, "duplicates": 0},
                    "node_kill": {"connections": 2_000, "connections_cut": 1_000,
                                  "connections_complete": 2_000, "events_lost": 0, "duplicates": 0},
                },
                "socketio": {
                    "one_node": {"events_lost": 0, "duplicates": 0},
                    "two_nodes": {"events_lost": 0, "duplicates": 0},
                    "node_kill": {"connections": 2_000, "connections_cut": 1_000,
                                  "connections_complete": 1_000, "events_lost": 15_000, "duplicates": 3},
                },
            },
        })
    }

    #[test]
    fn a_sound_report_passes_and_socketio_losses_are_its_own() {
        assert_eq!(problems(&sound_report()), Vec::<String>::new());
    }

    #[test]
    fn a_lost_event_a_failed_scenario_or_an_error_page_is_found() {
        let mut report = sound_report();
        report["storm"]["studyhall"]["events_lost"] = json!(1);
        report["fanout"]["socketio"] = json!({"error": "server did not start"});
        report["ssr"]["dashboard"]["errors"] = json!(2);
        report["idle"]["studyhall"]["held"] = json!(19_000);
        let found = problems(&report);
        assert_eq!(found.len(), 4, "{found:#?}");
        assert!(found[0].contains("server did not start"), "{found:#?}");
    }

    #[test]
    fn a_cluster_run_fails_on_any_loss_or_double_of_studyhall_and_on_a_kill_that_cut_nothing() {
        for (part, name) in [
            ("node_kill", "events_lost"),
            ("node_kill", "duplicates"),
            ("two_nodes", "events_lost"),
            ("one_node", "duplicates"),
        ] {
            let mut report = sound_report();
            report["cluster"]["studyhall"][part][name] = json!(1);
            let found = problems(&report);
            assert!(
                found.len() == 1 && found[0].contains(part) && found[0].contains(name),
                "{found:#?}"
            );
        }
        let mut report = sound_report();
        report["cluster"]["studyhall"]["node_kill"]["connections_complete"] = json!(1_999);
        report["cluster"]["studyhall"]["node_kill"]["connections_cut"] = json!(0);
        assert_eq!(problems(&report).len(), 2, "{:#?}", problems(&report));
        let mut report = sound_report();
        report["cluster"]["studyhall"]["two_nodes"] = json!(null);
        assert_eq!(
            problems(&report).len(),
            2,
            "a part that is missing is not a pass"
        );
    }

    #[test]
    fn scenarios_not_run_are_not_problems() {
        assert!(problems(&json!({"command": "studyhall-bench run --only idle"})).is_empty());
    }
}
