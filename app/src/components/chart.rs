//! A bar chart of period totals as SVG: labelled for screen readers (a title, a description and a
//! hidden table of the same numbers) and drawn with `currentColor`, so it reads in dark mode too.

use leptos::prelude::*;
use studyhall::learning::{format_minutes, PeriodTotal};

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 180.0;
const AXIS: f64 = 20.0;

#[component]
pub fn BarChart(
    #[prop(into)] title: String,
    #[prop(into)] totals: Signal<Vec<PeriodTotal>>,
    #[prop(into)] id: String,
) -> impl IntoView {
    let title_id = format!("{id}-title");
    let desc_id = format!("{id}-desc");
    let labelled_by = format!("{title_id} {desc_id}");
    let summary = move || {
        let t = totals.get();
        let sum: i64 = t.iter().map(|p| p.minutes).sum();
        let best = t.iter().max_by_key(|p| p.minutes);
        match best {
            Some(b) if sum > 0 => format!(
                "{} in total; the most was {} in the period starting {}.",
                format_minutes(sum),
                format_minutes(b.minutes),
                b.label
            ),
            _ => "Nothing logged in this range yet.".to_string(),
        }
    };
    view! {
        <figure class="text-indigo-600 dark:text-indigo-400" data-testid=id.clone()>
            <svg
                viewBox=format!("0 0 {WIDTH} {}", HEIGHT + AXIS)
                class="h-48 w-full"
                role="img"
                aria-labelledby=labelled_by
                preserveAspectRatio="none"
            >
                <title id=title_id.clone()>{title.clone()}</title>
                <desc id=desc_id>{summary}</desc>
                {move || {
                    let t = totals.get();
                    let max = t.iter().map(|p| p.minutes).max().unwrap_or(0).max(60) as f64;
                    let n = t.len().max(1) as f64;
                    let slot = WIDTH / n;
                    t.into_iter().enumerate().map(|(i, p)| {
                        let h = (p.minutes as f64 / max) * (HEIGHT - 8.0);
                        let x = i as f64 * slot + slot * 0.15;
                        view! {
                            <g>
                                <rect
                                    x=format!("{x:.1}")
                                    y=format!("{:.1}", HEIGHT - h)
                                    width=format!("{:.1}", slot * 0.7)
                                    height=format!("{h:.1}")
                                    rx="3"
                                    fill="currentColor"
                                    data-minutes=p.minutes
                                >
                                    <title>{format!("{}: {}", p.label, format_minutes(p.minutes))}</title>
                                </rect>
                                // The value over its bar (the hover title has the exact figure; the
                                // hidden table below is what screen readers use, so this is hidden).
                                {(p.minutes > 0).then(|| view! {
                                    <text
                                        x=format!("{:.1}", x + slot * 0.35)
                                        y=format!("{:.1}", (HEIGHT - h - 3.0).max(9.0))
                                        text-anchor="middle"
                                        aria-hidden="true"
                                        data-value=p.minutes
                                        class="fill-slate-700 text-[10px] dark:fill-slate-200"
                                    >
                                        {short_minutes(p.minutes)}
                                    </text>
                                })}
                                <text
                                    x=format!("{:.1}", x + slot * 0.35)
                                    y=format!("{}", HEIGHT + 14.0)
                                    text-anchor="middle"
                                    class="fill-slate-500 text-[10px] dark:fill-slate-400"
                                >
                                    {p.label.clone()}
                                </text>
                            </g>
                        }
                    }).collect_view()
                }}
                <line x1="0" x2=WIDTH y1=HEIGHT y2=HEIGHT stroke="currentColor" stroke-opacity="0.3" />
                <text x="2" y="10" class="fill-slate-500 text-[10px] dark:fill-slate-400" aria-hidden="true">
                    {move || format_minutes(totals.get().iter().map(|p| p.minutes).max().unwrap_or(0).max(60))}
                </text>
            </svg>
            <table class="sr-only">
                <caption>{title}</caption>
                <thead><tr><th scope="col">"Period"</th><th scope="col">"Time"</th></tr></thead>
                <tbody>
                    {move || totals.get().into_iter().map(|p| view! {
                        <tr><td>{p.label}</td><td>{format_minutes(p.minutes)}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        </figure>
    }
}

/// A bar's value in a few characters: `45m`, `2h`, `1.5h`, `12h`.
fn short_minutes(minutes: i64) -> String {
    if minutes < 60 {
        return format!("{minutes}m");
    }
    let tenths = (minutes * 10 + 30) / 60;
    if tenths % 10 == 0 || tenths >= 100 {
        format!("{}h", (tenths + 5) / 10)
    } else {
        format!("{}.{}h", tenths / 10, tenths % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::short_minutes;

    #[test]
    fn bar_values_are_short() {
        assert_eq!(short_minutes(45), "45m");
        assert_eq!(short_minutes(60), "1h");
        assert_eq!(short_minutes(90), "1.5h");
        assert_eq!(short_minutes(119), "2h");
        assert_eq!(short_minutes(600), "10h");
        assert_eq!(short_minutes(650), "11h");
    }
}
