//! `switchboard convert`: SDP <-> Jingle on the command line, through
//! `switchboard_jingle::convert` (see `protocols/jingle/MAPPING.md`).

use switchboard_jingle::xml::Element;
use switchboard_jingle::{Action, Jingle, Role, jingle_to_sdp, ns, sdp_to_jingle};

/// Converts `input` to `to` (`"jingle"` or `"sdp"`) and prints what the
/// target cannot express to standard error, one `lost: ...` line each.
///
/// * `jingle`: `input` is an SDP offer; the result is the `<jingle/>`
///   element of a `session-initiate` carrying it (sid = the `o=` session id).
/// * `sdp`: `input` is a `<jingle/>` element (or a stanza holding one); the
///   result is its SDP, an answer for `session-accept` (the responder's
///   description), an offer otherwise.
pub fn run(to: &str, input: &str) -> Result<String, String> {
    let (text, losses) = run_with_losses(to, input)?;
    for l in &losses {
        eprintln!("lost: {l}");
    }
    Ok(text)
}

/// [`run`] without printing: the text and the losses.
pub fn run_with_losses(to: &str, input: &str) -> Result<(String, Vec<String>), String> {
    match to {
        "jingle" => {
            let converted = sdp_to_jingle(input, Role::Initiator).map_err(|e| e.to_string())?;
            let mut jingle = converted.value;
            jingle.action = Action::SessionInitiate;
            jingle.sid = switchboard_sdp::SessionDescription::parse(input)
                .map(|d| d.origin.session_id.into_owned())
                .unwrap_or_else(|_| "switchboard".to_owned());
            let mut xml = jingle.to_xml();
            xml.push('\n');
            Ok((xml, converted.losses))
        }
        "sdp" => {
            let el = Element::parse(input).map_err(|e| e.to_string())?;
            let el = find_jingle(&el).ok_or("no <jingle xmlns='urn:xmpp:jingle:1'/> element in the input")?;
            let mut jingle = Jingle::parse(el).map_err(|e| format!("invalid Jingle: {e}"))?;
            // What the gateway gives browsers: content names they refuse as a=mid get short ones.
            let renamed = switchboard_jingle::convert::browser_mids(&mut jingle);
            let converted =
                jingle_to_sdp(&jingle, Role::of_action(jingle.action)).map_err(|e| e.to_string())?;
            let mut notes = converted.losses;
            for (name, mid) in renamed {
                notes.push(format!("content {name:?} is a=mid:{mid} (browsers take at most 16 characters)"));
            }
            Ok((converted.value, notes))
        }
        other => Err(format!("cannot convert to {other:?}: expected jingle or sdp")),
    }
}

/// The `<jingle/>` element itself or the first one inside (an `<iq/>` holding it).
fn find_jingle(el: &Element) -> Option<&Element> {
    if el.is("jingle", ns::JINGLE) {
        return Some(el);
    }
    el.elements().find_map(find_jingle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = include_str!("../fixtures/sdp/chromium-156-offer-audio-video-datachannel.sdp");

    #[test]
    fn sdp_to_jingle_and_back() {
        let (xml, losses) = run_with_losses("jingle", OFFER).unwrap();
        assert!(xml.starts_with(
            "<jingle xmlns='urn:xmpp:jingle:1' action='session-initiate' sid='1918084380277425064'>"
        ));
        assert_eq!(losses.len(), 2, "the two a=rtcp-xr lines");
        let (sdp, losses) = run_with_losses("sdp", &xml).unwrap();
        assert!(losses.is_empty());
        assert_eq!(sdp.lines().count(), OFFER.lines().count() - 2);
        let iq = format!("<iq xmlns='jabber:client' type='set'>{xml}</iq>");
        assert_eq!(run_with_losses("sdp", &iq).unwrap().0, sdp);
    }

    #[test]
    fn errors_are_one_line() {
        assert!(run("sdp", "<a/>").unwrap_err().contains("no <jingle"));
        assert!(run("jingle", "v=0\r\n").unwrap_err().contains("line"));
        assert!(run("xml", "").is_err());
    }
}
