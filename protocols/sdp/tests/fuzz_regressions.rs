//! Inputs found by the fuzz target (`fuzz/`), kept so they stay fixed.

use switchboard_sdp::SessionDescription;

/// cargo-fuzz, minimised: the last line is `s=` or `m=` with no line end.
/// The line iterator's offset went one past the end and sizing the next
/// section's vector sliced out of bounds (a panic on peer input).
#[test]
fn last_line_without_line_end_after_s_or_m() {
    for input in [
        "v=0\no=- 1 2 IN IP4 11\ns=ame",
        "v=0\no=- 1 2 IN IP4 1.1.1.1\ns=-\nm=audio 9 RTP/AVP 0",
        "v=0\r\no=- 1 2 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0",
    ] {
        let desc = SessionDescription::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(desc.to_sdp(), input.replace("\r\n", "\n").replace('\n', "\r\n") + "\r\n");
    }
}
