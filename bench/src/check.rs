//! What a run must show whatever the machine: every scenario ran, and Studyhall lost, doubled and
//! dropped nothing. No figure is compared with a threshold (speed is reported, never asserted).

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
    fn scenarios_not_run_are_not_problems() {
        assert!(problems(&json!({"command": "studyhall-bench run --only idle"})).is_empty());
    }
}
