//! Where a call goes: the dial plan.
//!
//! Ordered rules (from `[[dial_plan]]` in `switchboard.toml`) are tried
//! first; the first whose pattern matches the target decides. Without a
//! matching rule the defaults apply, which need no configuration:
//!
//! | target | from | goes to |
//! |---|---|---|
//! | `xmpp:user@domain` (another domain) | any | the XMPP user |
//! | `xmpp:LOCAL@<component domain>`, LOCAL an escaped SIP address (`alice\40pbx.example`) | any | `sip:alice@pbx.example` |
//! | `xmpp:NAME@<component domain>` | any | the browser registered as NAME, else the SIP phone registered as NAME |
//! | `sip:user%40domain@...` (escaped `@` in the user part) | any | the XMPP user `user@domain` |
//! | `sip:...` | a browser | that SIP URI |
//! | `sip:NAME@...` | a SIP phone (the gateway is the callee) | the browser NAME, else the SIP phone NAME |
//! | a bare NAME | a browser | the SIP phone registered as NAME |
//! | a bare NAME | SIP or XMPP | the browser NAME, else the SIP phone NAME |
//!
//! A rule's pattern is matched against `scheme:user@domain` (a bare name:
//! the name), ASCII case-insensitively; each `*` matches any text and is
//! captured as `$1`..`$9` (`$0`: the whole text) for the route templates.
//! Route templates are `sip:`/`sips:` URIs, `xmpp:` JIDs, `browser:NAME`,
//! `phone:NAME` (a SIP phone registered here) or `name:NAME` (browser, then
//! phone). When a route lists several targets, the next is tried when one
//! is not found or unavailable before it rang.

use std::fmt;

use crate::address::{Subject, jid_of_sip_user, sip_of_jid_local};
use crate::cause::HangupCause;

/// The kind of a leg: which adapter drives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LegKind {
    /// A browser on the WebSocket protocol (the hub).
    Browser,
    /// A SIP user agent.
    Sip,
    /// An XMPP client through the component.
    Xmpp,
}

impl LegKind {
    /// `browser`, `sip` or `xmpp`.
    pub fn word(self) -> &'static str {
        match self {
            LegKind::Browser => "browser",
            LegKind::Sip => "sip",
            LegKind::Xmpp => "xmpp",
        }
    }

    /// The kind a word names (`browser`, `sip`, `xmpp`).
    pub fn parse(word: &str) -> Option<LegKind> {
        match word.to_ascii_lowercase().as_str() {
            "browser" => Some(LegKind::Browser),
            "sip" => Some(LegKind::Sip),
            "xmpp" => Some(LegKind::Xmpp),
            _ => None,
        }
    }
}

/// Where one attempt of a call goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The browser registered under this name.
    Browser(String),
    /// The SIP phone registered at the gateway under this name.
    Phone(String),
    /// A SIP URI (`sip:` or `sips:`).
    Sip(String),
    /// A JID (`user@domain` or `user@domain/resource`, no `xmpp:`).
    Xmpp(String),
}

impl Target {
    /// The adapter that dials it.
    pub fn kind(&self) -> LegKind {
        match self {
            Target::Browser(_) => LegKind::Browser,
            Target::Phone(_) | Target::Sip(_) => LegKind::Sip,
            Target::Xmpp(_) => LegKind::Xmpp,
        }
    }

    /// The address as users write it (`sip:...`, `xmpp:...`, or the name).
    pub fn address(&self) -> String {
        match self {
            Target::Browser(n) | Target::Phone(n) => n.clone(),
            Target::Sip(u) => u.clone(),
            Target::Xmpp(j) => format!("xmpp:{j}"),
        }
    }

    /// A route template after substitution: `None` when it names no target.
    fn parse(text: &str) -> Option<Vec<Target>> {
        let (scheme, rest) = text.split_once(':')?;
        if rest.is_empty() {
            return None;
        }
        let t = match scheme.to_ascii_lowercase().as_str() {
            "sip" | "sips" => vec![Target::Sip(text.to_owned())],
            "xmpp" => vec![Target::Xmpp(rest.to_owned())],
            "browser" => vec![Target::Browser(rest.to_owned())],
            "phone" => vec![Target::Phone(rest.to_owned())],
            "name" => vec![Target::Browser(rest.to_owned()), Target::Phone(rest.to_owned())],
            _ => return None,
        };
        Some(t)
    }
}

/// What a rule does with the calls it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Try these route templates in order.
    Route(Vec<String>),
    /// Refuse the call with this cause.
    Reject(HangupCause),
}

/// One dial-plan rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// A glob over `scheme:user@domain` (or a bare name); `*` captures.
    pub pattern: String,
    /// Only calls arriving from this kind of leg (`None`: any).
    pub from: Option<LegKind>,
    /// What to do.
    pub action: Action,
}

/// A rule that cannot work, found when the plan is built.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DialPlanError {
    /// The route template (rule index, template) names no known kind of target.
    BadRoute(usize, String),
    /// The rule (index) has an empty pattern or route.
    Empty(usize),
}

impl fmt::Display for DialPlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DialPlanError::BadRoute(i, t) => write!(
                f,
                "dial_plan rule {}: route `{t}` is not sip:, sips:, xmpp:, browser:, phone: or name:",
                i + 1
            ),
            DialPlanError::Empty(i) => write!(f, "dial_plan rule {}: empty pattern or route", i + 1),
        }
    }
}

impl std::error::Error for DialPlanError {}

/// The rules, and the gateway's own XMPP domain (for the defaults).
#[derive(Debug, Clone, Default)]
pub struct DialPlan {
    rules: Vec<Rule>,
    xmpp_domain: Option<String>,
}

/// Most targets one route may try.
const MAX_TARGETS: usize = 8;

impl DialPlan {
    /// A plan with `rules`; `xmpp_domain` is the component's domain, if any.
    pub fn new(rules: Vec<Rule>, xmpp_domain: Option<String>) -> Result<DialPlan, DialPlanError> {
        for (i, r) in rules.iter().enumerate() {
            if r.pattern.is_empty() {
                return Err(DialPlanError::Empty(i));
            }
            if let Action::Route(templates) = &r.action {
                if templates.is_empty() {
                    return Err(DialPlanError::Empty(i));
                }
                for t in templates {
                    // Placeholders stand for text: check the template with them filled in.
                    let sample = fill(t, &["x"; 10]);
                    if Target::parse(&sample).is_none() {
                        return Err(DialPlanError::BadRoute(i, t.clone()));
                    }
                }
            }
        }
        Ok(DialPlan { rules, xmpp_domain: xmpp_domain.map(|d| d.to_ascii_lowercase()) })
    }

    /// The rules.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Where a call from a `from` leg to `target` goes, in order of trial,
    /// or why it cannot go anywhere.
    pub fn route(&self, from: LegKind, target: &str) -> Result<Vec<Target>, HangupCause> {
        let subject = Subject::parse(target);
        let text = subject.text();
        for rule in &self.rules {
            if rule.from.is_some_and(|k| k != from) {
                continue;
            }
            let Some(captures) = glob(&rule.pattern, &text) else { continue };
            return match &rule.action {
                Action::Reject(cause) => Err(*cause),
                Action::Route(templates) => {
                    let mut out = Vec::new();
                    for t in templates {
                        let refs: Vec<&str> = captures.iter().map(String::as_str).collect();
                        out.extend(Target::parse(&fill(t, &refs)).unwrap_or_default());
                    }
                    out.truncate(MAX_TARGETS);
                    if out.is_empty() { Err(HangupCause::NotFound) } else { Ok(out) }
                }
            };
        }
        self.default_route(from, target, &subject)
    }

    fn default_route(&self, from: LegKind, target: &str, s: &Subject) -> Result<Vec<Target>, HangupCause> {
        let name = |n: &str| -> Result<Vec<Target>, HangupCause> {
            if n.is_empty() {
                return Err(HangupCause::NotFound);
            }
            Ok(vec![Target::Browser(n.to_owned()), Target::Phone(n.to_owned())])
        };
        match s.scheme.as_str() {
            "xmpp" => {
                let domain = s.domain.split('/').next().unwrap_or_default().to_ascii_lowercase();
                if self.xmpp_domain.as_deref() == Some(domain.as_str()) {
                    if let Some(uri) = sip_of_jid_local(&s.user) {
                        return Ok(vec![Target::Sip(uri)]);
                    }
                    return name(&s.user);
                }
                if s.user.is_empty() {
                    return Err(HangupCause::NotFound);
                }
                Ok(vec![Target::Xmpp(format!("{}@{}", s.user, s.domain))])
            }
            "sip" | "sips" => {
                if let Some(jid) = jid_of_sip_user(&s.user) {
                    return Ok(vec![Target::Xmpp(jid)]);
                }
                match from {
                    LegKind::Sip => name(&s.user),
                    // As written: parameters (`;transport=tcp`) say how to reach it.
                    _ => Ok(vec![Target::Sip(target.to_owned())]),
                }
            }
            _ => match from {
                LegKind::Browser if !s.user.is_empty() => Ok(vec![Target::Phone(s.user.clone())]),
                _ => {
                    if let Some(jid) = jid_of_sip_user(&s.user) {
                        return Ok(vec![Target::Xmpp(jid)]);
                    }
                    if let Some(uri) = sip_of_jid_local(&s.user) {
                        return Ok(vec![Target::Sip(uri)]);
                    }
                    name(&s.user)
                }
            },
        }
    }
}

/// `template` with `$0`..`$9` replaced by `captures` (missing ones: empty).
fn fill(template: &str, captures: &[&str]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$'
            && let Some(d) = chars.peek().and_then(|d| d.to_digit(10))
        {
            chars.next();
            out.push_str(captures.get(d as usize).copied().unwrap_or_default());
            continue;
        }
        out.push(c);
    }
    out
}

/// Matches `text` against a glob whose `*`s match any text (shortest
/// first); returns the whole text then each `*`'s text.
fn glob(pattern: &str, text: &str) -> Option<Vec<String>> {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let mut caps = Vec::new();
    if glob_at(p, t, &mut caps) {
        let mut out = vec![text.to_owned()];
        out.extend(caps.into_iter().map(|(a, b)| text[a..b].to_owned()));
        return Some(out);
    }
    None
}

fn glob_at(p: &[u8], t: &[u8], caps: &mut Vec<(usize, usize)>) -> bool {
    /// Backtracking over the stars; `failed` remembers the (pattern, text)
    /// positions known not to match, so that no pair is tried twice
    /// (captures do not change whether the rest matches).
    fn go(
        p: &[u8],
        pi: usize,
        t: &[u8],
        ti: usize,
        caps: &mut Vec<(usize, usize)>,
        failed: &mut [bool],
    ) -> bool {
        let key = pi * (t.len() + 1) + ti;
        if failed[key] {
            return false;
        }
        let ok = if pi == p.len() {
            ti == t.len()
        } else if p[pi] == b'*' {
            let mut found = false;
            for end in ti..=t.len() {
                caps.push((ti, end));
                if go(p, pi + 1, t, end, caps, failed) {
                    found = true;
                    break;
                }
                caps.pop();
            }
            found
        } else {
            ti < t.len() && p[pi].eq_ignore_ascii_case(&t[ti]) && go(p, pi + 1, t, ti + 1, caps, failed)
        };
        if !ok {
            failed[key] = true;
        }
        ok
    }
    // Patterns come from the operator's file, targets from callers: bound both.
    if p.len() > 256 || t.len() > 1024 {
        return false;
    }
    let mut failed = vec![false; (p.len() + 1) * (t.len() + 1)];
    go(p, 0, t, 0, caps, &mut failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(rules: Vec<Rule>) -> DialPlan {
        DialPlan::new(rules, Some("gateway.example".into())).unwrap()
    }

    #[test]
    fn defaults_need_no_rules() {
        let p = plan(vec![]);
        let b = |n: &str| vec![Target::Browser(n.into()), Target::Phone(n.into())];
        assert_eq!(
            p.route(LegKind::Browser, "xmpp:bob@example.org"),
            Ok(vec![Target::Xmpp("bob@example.org".into())])
        );
        assert_eq!(
            p.route(LegKind::Browser, "xmpp:bob@example.org/phone"),
            Ok(vec![Target::Xmpp("bob@example.org/phone".into())])
        );
        assert_eq!(
            p.route(LegKind::Browser, "sip:bob@192.0.2.1"),
            Ok(vec![Target::Sip("sip:bob@192.0.2.1".into())])
        );
        assert_eq!(p.route(LegKind::Browser, "carol"), Ok(vec![Target::Phone("carol".into())]));
        assert_eq!(
            p.route(LegKind::Browser, "sip:bob@192.0.2.1:5093;transport=tcp"),
            Ok(vec![Target::Sip("sip:bob@192.0.2.1:5093;transport=tcp".into())])
        );
        assert_eq!(p.route(LegKind::Sip, "sip:alice@192.0.2.9"), Ok(b("alice")));
        assert_eq!(p.route(LegKind::Sip, "alice"), Ok(b("alice")));
        assert_eq!(p.route(LegKind::Xmpp, "xmpp:alice@gateway.example"), Ok(b("alice")));
        assert_eq!(p.route(LegKind::Xmpp, "alice"), Ok(b("alice")));
        // The escaping conventions.
        assert_eq!(
            p.route(LegKind::Sip, "sip:bob%40example.org@gw"),
            Ok(vec![Target::Xmpp("bob@example.org".into())])
        );
        assert_eq!(
            p.route(LegKind::Sip, "bob%40example.org"),
            Ok(vec![Target::Xmpp("bob@example.org".into())])
        );
        assert_eq!(
            p.route(LegKind::Browser, "sip:bob%40example.org%2Fpc@gw"),
            Ok(vec![Target::Xmpp("bob@example.org/pc".into())])
        );
        assert_eq!(
            p.route(LegKind::Xmpp, "xmpp:+15551234\\40sip.example@gateway.example"),
            Ok(vec![Target::Sip("sip:+15551234@sip.example".into())])
        );
        assert_eq!(
            p.route(LegKind::Xmpp, "+15551234%40127.0.0.1\\3a5090"),
            Ok(vec![Target::Sip("sip:+15551234@127.0.0.1:5090".into())])
        );
        assert_eq!(
            p.route(LegKind::Browser, "xmpp:carol\\40192.0.2.4@gateway.example"),
            Ok(vec![Target::Sip("sip:carol@192.0.2.4".into())])
        );
        assert_eq!(p.route(LegKind::Sip, "sip:192.0.2.1"), Err(HangupCause::NotFound));
        assert_eq!(p.route(LegKind::Xmpp, "xmpp:gateway.example"), Err(HangupCause::NotFound));
    }

    #[test]
    fn rules_come_first_with_captures() {
        let p = plan(vec![
            Rule {
                pattern: "xmpp:+1*@gateway.example".into(),
                from: Some(LegKind::Xmpp),
                action: Action::Route(vec!["sip:+1$1@trunk.example;user=phone".into()]),
            },
            Rule { pattern: "sip:9*@*".into(), from: None, action: Action::Reject(HangupCause::Decline) },
            Rule {
                pattern: "support".into(),
                from: None,
                action: Action::Route(vec![
                    "browser:agent1".into(),
                    "phone:desk".into(),
                    "xmpp:help@example.org".into(),
                ]),
            },
        ]);
        assert_eq!(
            p.route(LegKind::Xmpp, "xmpp:+15551234@gateway.example"),
            Ok(vec![Target::Sip("sip:+15551234@trunk.example;user=phone".into())])
        );
        assert_eq!(
            p.route(LegKind::Browser, "xmpp:+15551234@gateway.example"),
            Ok(vec![Target::Browser("+15551234".into()), Target::Phone("+15551234".into())]),
            "the rule is for XMPP callers only"
        );
        assert_eq!(p.route(LegKind::Sip, "sip:900@gw"), Err(HangupCause::Decline));
        assert_eq!(
            p.route(LegKind::Sip, "SUPPORT"),
            Ok(vec![
                Target::Browser("agent1".into()),
                Target::Phone("desk".into()),
                Target::Xmpp("help@example.org".into())
            ])
        );
    }

    #[test]
    fn bad_rules_are_refused_when_loaded() {
        let bad = Rule { pattern: "x".into(), from: None, action: Action::Route(vec!["tel:$1".into()]) };
        assert_eq!(DialPlan::new(vec![bad], None).unwrap_err(), DialPlanError::BadRoute(0, "tel:$1".into()));
        let empty =
            Rule { pattern: String::new(), from: None, action: Action::Route(vec!["sip:a@b".into()]) };
        assert!(DialPlan::new(vec![empty], None).is_err());
    }

    #[test]
    fn globs() {
        assert_eq!(glob("a*c*", "abbcdd"), Some(vec!["abbcdd".into(), "bb".into(), "dd".into()]));
        assert_eq!(glob("A*", "abc").map(|c| c.len()), Some(2));
        assert_eq!(glob("a*c", "abd"), None);
        assert_eq!(glob("*", ""), Some(vec![String::new(), String::new()]));
        assert_eq!(fill("x$1y$2$$9", &["all", "1"]), "x1y$");
        let long = "a".repeat(1000);
        assert_eq!(glob("*a*a*a*a*a*a*a*a*b", &long), None, "no exponential backtracking");
    }
}
