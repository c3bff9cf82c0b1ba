//! Jingle parse -> write -> parse round trip, and Jingle -> SDP.
//!
//! For any input: XML and Jingle parsing may fail but must not panic; when
//! both XML readers (`Element::parse`, quick-xml, and `Element::parse_fast`,
//! the crate's own) accept it they give the same tree. When
//! a `<jingle/>` element (the root, or the first one inside it) parses:
//! `to_element` and `to_xml` must give elements that parse back to an equal
//! `Jingle`, and the same element; `jingle_to_sdp` (both roles) must not
//! panic, and when it gives SDP that SDP must parse with the SDP model and
//! convert back with `sdp_to_jingle`; `candidates_of` must give candidates
//! the SDP model parses.

#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_jingle::xml::Element;
use switchboard_jingle::{Jingle, Role, candidates_of, jingle_to_sdp, ns, sdp_to_jingle};

fn find_jingle(el: &Element) -> Option<&Element> {
    if el.is("jingle", ns::JINGLE) {
        return Some(el);
    }
    el.elements().find_map(find_jingle)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The crate's own XML reader must give the quick-xml reader's tree.
    let fast = Element::parse_fast(text);
    let Ok(root) = Element::parse(text) else { return };
    if let Ok(fast) = &fast {
        assert!(*fast == root, "parse_fast and parse differ\n{text:?}\n{fast:#?}\n{root:#?}");
    }
    if root.is("jingle", ns::JINGLE)
        && let (Ok(a), Ok(b)) = (Jingle::parse_xml(text), Jingle::parse(&root))
    {
        assert!(a == b, "Jingle::parse_xml and Jingle::parse differ");
    }
    let Some(el) = find_jingle(&root) else { return };
    let j = match Jingle::parse(el) {
        Ok(j) => j,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            match Jingle::parse_payload(el) {
                Ok(j) => j,
                Err(_) => return,
            }
        }
    };
    let el2 = j.to_element();
    let j2 = Jingle::parse(&el2)
        .unwrap_or_else(|e| panic!("to_element does not parse again: {e}\n{}", el2.to_xml()));
    assert!(j2 == j, "changed across to_element -> parse\n--- first ---\n{j:#?}\n--- second ---\n{j2:#?}");
    let xml = j.to_xml();
    let el3 = Element::parse(&xml).unwrap_or_else(|e| panic!("to_xml is not well-formed: {e}\n{xml}"));
    assert!(el3 == el2, "to_xml and to_element differ\n{xml}\n{}", el2.to_xml());
    for role in [Role::Initiator, Role::Responder] {
        let Ok(sdp) = jingle_to_sdp(&j, role) else { continue };
        if let Err(e) = switchboard_sdp::SessionDescription::parse(&sdp.value) {
            panic!("the SDP written does not parse: {e}\n{}", sdp.value);
        }
        if let Err(e) = sdp_to_jingle(&sdp.value, role) {
            panic!("the SDP written does not convert back: {e}\n{}", sdp.value);
        }
    }
    for c in candidates_of(&j) {
        if !c.candidate.is_empty() {
            switchboard_sdp::Candidate::parse(&c.candidate)
                .unwrap_or_else(|e| panic!("trickle candidate {:?} does not parse: {e}", c.candidate));
        }
    }
});
