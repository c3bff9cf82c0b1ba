//! Runs every RFC 4475 torture message through rsip 0.4 and through
//! rsipstack 0.7's parser (`rsipstack::rsip`), and prints, per message, whether
//! it parses and which of the headers a UAS needs come out typed. Evidence
//! for the parser decision of issue #4 (README, design notes).
//!
//! usage: cargo run --manifest-path tools/sip-eval/Cargo.toml -- ../shared/fixtures/sip/rfc4475

macro_rules! evaluator {
    ($module:ident, $krate:path) => {
        mod $module {
            use $krate as s;
            use s::prelude::*;

            /// `ok`, or what failed, for one message.
            pub fn eval(bytes: &[u8]) -> String {
                let msg = match s::SipMessage::try_from(bytes) {
                    Ok(m) => m,
                    Err(e) => return format!("parse error: {}", short(&e.to_string())),
                };
                let mut failed = Vec::new();
                if msg.via_header().map_err(|e| e.to_string()).and_then(|v| v.typed().map_err(|e| e.to_string())).is_err() {
                    failed.push("Via");
                }
                if msg.from_header().map_err(|e| e.to_string()).and_then(|v| v.typed().map_err(|e| e.to_string())).is_err() {
                    failed.push("From");
                }
                if msg.to_header().map_err(|e| e.to_string()).and_then(|v| v.typed().map_err(|e| e.to_string())).is_err() {
                    failed.push("To");
                }
                if msg.cseq_header().map_err(|e| e.to_string()).and_then(|v| v.typed().map_err(|e| e.to_string())).is_err() {
                    failed.push("CSeq");
                }
                if msg.call_id_header().is_err() {
                    failed.push("Call-ID");
                }
                let text = String::from_utf8_lossy(bytes).to_lowercase();
                if (text.contains("\ncontact:") || text.contains("\nm:"))
                    && msg.contact_header().map_err(|e| e.to_string()).and_then(|v| v.typed().map_err(|e| e.to_string())).is_err()
                {
                    failed.push("Contact");
                }
                let body = match &msg {
                    s::SipMessage::Request(r) => r.body().len(),
                    s::SipMessage::Response(r) => r.body().len(),
                };
                let declared = text
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:").or_else(|| l.strip_prefix("l:")))
                    .and_then(|v| v.trim().parse::<usize>().ok());
                let body_note = match declared {
                    Some(n) if n != body => format!(" body {body} bytes, Content-Length {n}"),
                    _ => String::new(),
                };
                if failed.is_empty() && body_note.is_empty() {
                    "ok".into()
                } else if failed.is_empty() {
                    format!("parsed;{body_note}")
                } else {
                    format!("parsed; typed header fails: {}{body_note}", failed.join(" "))
                }
            }

            fn short(s: &str) -> String {
                let s = s.replace('\n', " ");
                if s.len() > 70 { format!("{}…", &s[..s.char_indices().nth(70).map_or(s.len(), |(i, _)| i)]) } else { s }
            }
        }
    };
}

evaluator!(with_rsip, rsip);
evaluator!(with_rsipstack, rsipstack::rsip);

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "../shared/fixtures/sip/rfc4475".into());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "dat"))
        .collect();
    files.sort();
    println!("| message | rsip 0.4.0 | rsipstack 0.7.14 |\n|---|---|---|");
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        let a = std::panic::catch_unwind(|| with_rsip::eval(&bytes)).unwrap_or_else(|_| "PANIC".into());
        let b = std::panic::catch_unwind(|| with_rsipstack::eval(&bytes)).unwrap_or_else(|_| "PANIC".into());
        println!("| {name} | {a} | {b} |");
    }
}
