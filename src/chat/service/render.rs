//! A message's Markdown to safe HTML: pulldown-cmark renders the subset chat offers (emphasis, code,
//! code blocks, links, lists, quotes), raw HTML in the text is shown as text, and ammonia then keeps
//! only that subset's tags, with links opened `rel="noopener noreferrer"` in a new tab.

use pulldown_cmark::{Event, Options, Parser};
use std::collections::HashSet;
use std::sync::OnceLock;

/// The tags a rendered message may hold: the subset's, nothing else.
const TAGS: [&str; 12] = [
    "p",
    "br",
    "strong",
    "em",
    "del",
    "code",
    "pre",
    "a",
    "ul",
    "ol",
    "li",
    "blockquote",
];

fn sanitizer() -> &'static ammonia::Builder<'static> {
    static BUILDER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    BUILDER.get_or_init(|| {
        let tags: HashSet<&str> = TAGS.into_iter().collect();
        let mut b = ammonia::Builder::empty();
        b.tags(tags)
            .add_tag_attributes("a", ["href"])
            .add_tag_attributes("ol", ["start"])
            .url_schemes(["http", "https", "mailto"].into_iter().collect())
            .link_rel(Some("noopener noreferrer"))
            .set_tag_attribute_value("a", "target", "_blank");
        b
    })
}

/// The HTML to show for `body`.
pub fn html(body: &str) -> String {
    let parser = Parser::new_ext(body, Options::ENABLE_STRIKETHROUGH).map(|event| match event {
        // Someone typing `<b>` means the characters, not a tag.
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        // A single line break in chat is a line break.
        Event::SoftBreak => Event::HardBreak,
        other => other,
    });
    let mut rendered = String::with_capacity(body.len() * 2);
    pulldown_cmark::html::push_html(&mut rendered, parser);
    sanitizer()
        .clean(&rendered)
        .to_string()
        .trim_end()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::html;

    #[test]
    fn the_subset_renders() {
        assert_eq!(
            html("**bold** and *it*"),
            "<p><strong>bold</strong> and <em>it</em></p>"
        );
        assert_eq!(html("`x < y`"), "<p><code>x &lt; y</code></p>");
        assert!(html("```\nfn main() {}\n```").starts_with("<pre><code>fn main() {}"));
        assert_eq!(html("- a\n- b"), "<ul>\n<li>a</li>\n<li>b</li>\n</ul>");
        assert_eq!(
            html("> quoted"),
            "<blockquote>\n<p>quoted</p>\n</blockquote>"
        );
        assert_eq!(html("one\ntwo"), "<p>one<br>\ntwo</p>");
        assert_eq!(
            html("[docs](https://example.org/a)"),
            "<p><a href=\"https://example.org/a\" target=\"_blank\" rel=\"noopener noreferrer\">docs</a></p>"
        );
    }

    /// Nothing that could run or load survives: tags typed as text stay text, dangerous links lose
    /// their target, images and SVG are gone.
    #[test]
    fn the_xss_corpus_renders_inert() {
        let corpus = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "<svg onload=alert(1)><circle/></svg>",
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "![x](https://example.org/pixel.png)",
            "<a href=\"javascript:alert(1)\">x</a>",
            "[x](https://a.example \"title\" onmouseover=alert(1))",
            "<iframe src=https://evil.example></iframe>",
            "<div style=\"background:url(javascript:alert(1))\">x</div>",
        ];
        for input in corpus {
            let out = html(input).to_ascii_lowercase();
            // Every tag left is one of the subset's, and no attribute can run or load anything.
            for tag in out
                .split('<')
                .skip(1)
                .map(|t| t.split('>').next().unwrap_or(""))
            {
                let name = tag
                    .trim_start_matches('/')
                    .split([' ', '/'])
                    .next()
                    .unwrap_or("");
                assert!(
                    super::TAGS.contains(&name),
                    "{input:?} left <{tag}> in {out:?}"
                );
                for bad in ["javascript:", "data:", " on", "style", "src="] {
                    assert!(!tag.contains(bad), "{input:?} left <{tag}> in {out:?}");
                }
            }
        }
        assert_eq!(
            html("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;",
            "shown as the characters typed"
        );
    }
}
