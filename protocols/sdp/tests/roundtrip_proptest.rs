//! Property test: for generated descriptions, parse(write(x)) == x, and
//! writing is idempotent. The generators produce every typed line and
//! attribute, unknown attributes and line types, in any order.

use std::borrow::Cow;
use std::net::IpAddr;

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use switchboard_sdp::*;

type S = Cow<'static, str>;

fn text(re: &'static str) -> impl Strategy<Value = S> {
    proptest::string::string_regex(re).unwrap().prop_map(Cow::Owned)
}

/// A token: no blanks, no colon (so it can also stand before a `:`).
fn tok() -> impl Strategy<Value = S> {
    text("[A-Za-z0-9+/._-]{1,12}")
}

/// Free text for `i=`, `s=` and the like: printable, may hold blanks anywhere.
fn free() -> impl Strategy<Value = S> {
    text("[ -~]{0,20}")
}

/// A value with inner blanks but none at either end, as raw attribute values are kept.
fn inner() -> impl Strategy<Value = S> {
    text("[!-~]([ -~]{0,15}[!-~])?")
}

fn ice() -> impl Strategy<Value = S> {
    text("[A-Za-z0-9+/]{4,24}")
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![any::<[u8; 4]>().prop_map(IpAddr::from), any::<[u8; 16]>().prop_map(IpAddr::from)]
}

fn address() -> impl Strategy<Value = Address<'static>> {
    prop_oneof![
        ip().prop_map(Address::Ip),
        text("[0-9a-f]{8}-[0-9a-f]{4}\\.local").prop_map(Address::Mdns),
        text("[a-z][a-z0-9-]{0,8}\\.[a-z]{2,4}").prop_map(Address::Fqdn),
    ]
}

fn candidate() -> impl Strategy<Value = Candidate<'static>> {
    let kind = prop_oneof![
        Just(CandidateType::Host),
        Just(CandidateType::Srflx),
        Just(CandidateType::Prflx),
        Just(CandidateType::Relay),
        text("x[a-z]{1,5}").prop_map(CandidateType::Other),
    ];
    let tcp = option::of(prop_oneof![Just(TcpType::Active), Just(TcpType::Passive), Just(TcpType::So)]);
    (
        (text("[A-Za-z0-9+/]{1,32}"), 1u16..=256, text("(udp|UDP|tcp|TCP|x-[a-z]{1,4})"), any::<u32>()),
        (address(), any::<u16>(), kind, option::of(address()), option::of(any::<u16>())),
        (
            tcp,
            option::of(any::<u32>()),
            option::of(ice()),
            option::of(any::<u32>()),
            option::of(any::<u32>()),
        ),
        vec((text("x-[a-z]{1,6}"), tok()), 0..3),
    )
        .prop_map(
            |(
                (foundation, component, transport, priority),
                (address, port, kind, raddr, rport),
                rest,
                ext,
            )| {
                let (tcp_type, generation, ufrag, network_id, network_cost) = rest;
                Candidate {
                    foundation,
                    component,
                    transport,
                    priority,
                    address,
                    port,
                    kind,
                    related_address: raddr,
                    related_port: rport,
                    tcp_type,
                    generation,
                    ufrag,
                    network_id,
                    network_cost,
                    extensions: ext,
                }
            },
        )
}

fn direction() -> impl Strategy<Value = Direction> {
    prop_oneof![
        Just(Direction::Sendrecv),
        Just(Direction::Sendonly),
        Just(Direction::Recvonly),
        Just(Direction::Inactive)
    ]
}

fn rid_direction() -> impl Strategy<Value = RidDirection> {
    prop_oneof![Just(RidDirection::Send), Just(RidDirection::Recv)]
}

fn decimal() -> impl Strategy<Value = S> {
    text("[0-9]{1,3}(\\.[0-9]{1,3})?")
}

fn attribute() -> impl Strategy<Value = Attribute<'static>> {
    let flags = prop_oneof![
        Just(Attribute::EndOfCandidates),
        Just(Attribute::IceLite),
        Just(Attribute::RtcpMux),
        Just(Attribute::RtcpMuxOnly),
        Just(Attribute::RtcpRsize),
        Just(Attribute::ExtmapAllowMixed),
        direction().prop_map(Attribute::Direction),
    ];
    let ice_attrs = prop_oneof![
        candidate().prop_map(|c| Attribute::Candidate(Box::new(c))),
        ice().prop_map(Attribute::IceUfrag),
        ice().prop_map(Attribute::IcePwd),
        text("[a-z0-9-]{1,8}( [a-z0-9-]{1,8}){0,2}").prop_map(Attribute::IceOptions),
        (text("sha-(1|256|384|512)"), text("[0-9A-F]{2}(:[0-9A-F]{2}){0,31}"))
            .prop_map(|(hash, value)| Attribute::Fingerprint(Fingerprint { hash, value })),
        prop_oneof![Just(Setup::Active), Just(Setup::Passive), Just(Setup::Actpass), Just(Setup::Holdconn)]
            .prop_map(Attribute::Setup),
    ];
    let grouping = prop_oneof![
        tok().prop_map(Attribute::Mid),
        (tok(), vec(tok(), 0..4)).prop_map(|(semantics, mids)| Attribute::Group(Group { semantics, mids })),
        (any::<bool>(), tok(), vec(tok(), 0..3)).prop_map(|(blank_after_colon, semantic, ids)| {
            Attribute::MsidSemantic(MsidSemantic { blank_after_colon, semantic, ids })
        }),
        (tok(), option::of(tok())).prop_map(|(stream, track)| Attribute::Msid(Msid { stream, track })),
    ];
    let rtp = prop_oneof![
        (0u8..=127, text("[A-Za-z0-9-]{1,10}"), any::<u32>(), option::of(any::<u16>())).prop_map(
            |(payload, encoding, clock_rate, channels)| {
                Attribute::Rtpmap(Rtpmap { payload, encoding, clock_rate, channels })
            }
        ),
        (tok(), prop_oneof![Just(Cow::Borrowed("")), inner()])
            .prop_map(|(format, params)| Attribute::Fmtp(Fmtp { format, params })),
        (option::of(0u8..=127), tok(), option::of(inner()))
            .prop_map(|(payload, kind, params)| Attribute::RtcpFb(RtcpFb { payload, kind, params })),
        (any::<u16>(), option::of((tok(), tok(), tok())))
            .prop_map(|(port, address)| Attribute::Rtcp(Rtcp { port, address })),
        (1u8..=255, option::of(direction()), tok(), option::of(inner())).prop_map(
            |(id, direction, uri, attributes)| Attribute::Extmap(Extmap { id, direction, uri, attributes })
        ),
        (any::<u32>(), tok(), option::of(prop_oneof![Just(Cow::Borrowed("")), inner()]))
            .prop_map(|(id, attribute, value)| Attribute::Ssrc(Ssrc { id, attribute, value })),
        (tok(), vec(any::<u32>(), 0..4))
            .prop_map(|(semantics, ssrcs)| Attribute::SsrcGroup(SsrcGroup { semantics, ssrcs })),
        (tok(), rid_direction(), option::of(inner()))
            .prop_map(|(id, direction, restrictions)| Attribute::Rid(Rid { id, direction, restrictions })),
        vec((rid_direction(), text("~?[a-z0-9]{1,3}([;,]~?[a-z0-9]{1,3}){0,3}")), 1..3)
            .prop_map(|lists| Attribute::Simulcast(Simulcast { lists })),
        decimal().prop_map(Attribute::Ptime),
        decimal().prop_map(Attribute::Maxptime),
        (any::<u32>(), tok(), tok(), option::of(inner())).prop_map(
            |(tag, suite, key_params, session_params)| {
                Attribute::Crypto(Crypto { tag, suite, key_params, session_params })
            }
        ),
    ];
    let data = prop_oneof![
        any::<u16>().prop_map(Attribute::SctpPort),
        any::<u64>().prop_map(Attribute::MaxMessageSize),
        (any::<u16>(), tok(), option::of(any::<u32>()))
            .prop_map(|(port, app, streams)| Attribute::Sctpmap(Sctpmap { port, app, streams })),
    ];
    // Unknown attribute names all start with `x-`, so none collides with a typed one.
    let other = (text("x-[a-z0-9-]{0,10}"), option::of(prop_oneof![Just(Cow::Borrowed("")), inner()]))
        .prop_map(|(name, value)| Attribute::Other { name, value });
    prop_oneof![flags, ice_attrs, grouping, rtp, data, other]
}

fn connection() -> impl Strategy<Value = Connection<'static>> {
    prop_oneof![
        (
            tok(),
            text("IP4|x[a-z]{1,3}"),
            text("[a-z0-9.]{1,15}"),
            option::of((any::<u8>(), option::of(any::<u32>())))
        )
            .prop_map(|(nettype, addrtype, address, multicast)| Connection {
                nettype,
                addrtype,
                address,
                ttl: multicast.map(|m| m.0),
                count: multicast.and_then(|m| m.1),
            }),
        (tok(), text("[a-f0-9:]{2,15}"), option::of(any::<u32>())).prop_map(|(nettype, address, count)| {
            Connection { nettype, addrtype: Cow::Borrowed("IP6"), address, ttl: None, count }
        }),
    ]
}

fn media_line() -> impl Strategy<Value = Line<'static>> {
    prop_oneof![
        4 => attribute().prop_map(Line::Attribute),
        1 => free().prop_map(Line::Info),
        1 => connection().prop_map(Line::Connection),
        1 => (text("[A-Z]{1,4}"), any::<u64>()).prop_map(|(kind, value)| Line::Bandwidth(Bandwidth { kind, value })),
        1 => free().prop_map(Line::Key),
        1 => (prop::sample::select(vec!['d', 'f', 'g', 'h', 'j', 'l', 'n', 'q', 'w', 'x', 'y', 'X']), free())
            .prop_map(|(letter, value)| Line::Unknown { letter, value }),
    ]
}

fn session_line() -> impl Strategy<Value = Line<'static>> {
    prop_oneof![
        6 => media_line(),
        1 => free().prop_map(Line::Uri),
        1 => free().prop_map(Line::Email),
        1 => free().prop_map(Line::Phone),
        1 => (any::<u64>(), any::<u64>()).prop_map(|(start, stop)| Line::Timing(Timing { start, stop })),
        1 => free().prop_map(Line::Repeat),
        1 => free().prop_map(Line::TimeZones),
    ]
}

fn media_section() -> impl Strategy<Value = MediaSection<'static>> {
    (tok(), any::<u16>(), option::of(any::<u16>()), tok(), vec(tok(), 1..6), vec(media_line(), 0..12))
        .prop_map(|(media, port, port_count, proto, formats, lines)| MediaSection {
            line: MediaLine { media, port, port_count, proto, formats },
            lines,
        })
}

fn description() -> impl Strategy<Value = SessionDescription<'static>> {
    let origin = (tok(), text("[0-9]{1,20}"), any::<u64>(), tok(), tok(), tok()).prop_map(
        |(username, session_id, session_version, nettype, addrtype, address)| Origin {
            username,
            session_id,
            session_version,
            nettype,
            addrtype,
            address,
        },
    );
    // `s=` must not be blank only (blank lines are skipped), but may be a single space plus text.
    let name = prop_oneof![Just(Cow::Borrowed("-")), Just(Cow::Borrowed(" -")), text("[!-~][ -~]{0,15}")];
    (any::<u32>(), origin, name, vec(session_line(), 0..10), vec(media_section(), 0..4)).prop_map(
        |(version, origin, session_name, lines, media)| SessionDescription {
            version,
            origin,
            session_name,
            lines,
            media,
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn parse_of_write_is_identity(desc in description()) {
        let written = desc.to_sdp();
        let parsed = SessionDescription::parse(&written)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{written}")))?;
        prop_assert_eq!(&parsed, &desc, "{}", written);
        prop_assert_eq!(parsed.to_sdp(), written);
    }

    #[test]
    fn candidate_text_round_trips(c in candidate()) {
        let text = format!("candidate:{c}");
        prop_assert_eq!(Candidate::parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?, c);
    }

    #[test]
    fn parsing_arbitrary_lines_never_panics(lines in vec("[ -~\\t]{0,60}", 0..20)) {
        let text = format!("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n{}", lines.join("\r\n"));
        if let Ok(desc) = SessionDescription::parse(&text) {
            let written = desc.to_sdp();
            let again = SessionDescription::parse(&written).expect("a parsed description writes back parseable");
            prop_assert_eq!(again, desc);
        }
    }
}
