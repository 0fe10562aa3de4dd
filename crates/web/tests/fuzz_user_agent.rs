//! Runs the `web_user_agent` fuzz target's checks (`fuzz/checks/web_user_agent.rs`) on stable
//! Rust, over the committed corpus (`fuzz/corpus/web_user_agent/`, real client apps'
//! User-Agents) and generated requests built from pieces of them.

use proptest::prelude::*;
// The checks read the rules as `crate::format`, as the fuzz target compiles them.
use web::subscription::format;

#[path = "../../../fuzz/checks/web_user_agent.rs"]
mod checks;

#[path = "../../../fuzz/checks/corpus.rs"]
mod corpus;

#[test]
fn the_web_user_agent_checks_hold_on_the_committed_corpus() {
    for (name, bytes) in corpus::corpus("web_user_agent") {
        println!("{name}");
        checks::run(&bytes);
    }
}

fn request() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        prop::sample::select(vec![
            "v2rayNG/1.9",
            "Hiddify",
            "sing-box",
            "SFI/",
            "clash",
            "Stash",
            "mihomo",
            "Happ/",
            "Mozilla/5.0",
            "text/html",
            "CLASH",
            "hiddify-next",
            "curl/8",
            "",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z0-9/ ;.()=-]{0,12}",
    ];
    (
        proptest::option::of(prop::sample::select(vec![
            "clash", "sing-box", "base64", "html", "nope", "YAML", " json ",
        ])),
        proptest::collection::vec(word.clone(), 0..4),
        proptest::collection::vec(word, 0..2),
        proptest::collection::vec("[a-z/]{0,6}=(clash|sing-box|base64|html|bad)", 0..3),
    )
        .prop_map(|(query, ua, accept, rules)| {
            let mut fields = vec![
                query.unwrap_or("").to_owned(),
                ua.join(" "),
                accept.join(","),
            ];
            fields.extend(rules);
            fields.join("\0")
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_user_agent_fuzz_checks_hold_on_stable(input in prop_oneof![
        request().prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..100),
    ]) {
        checks::run(&input);
    }
}
