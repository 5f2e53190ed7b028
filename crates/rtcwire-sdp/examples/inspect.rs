//! Prints a readable summary of a session description.
//!
//! ```text
//! cargo run -p rtcwire-sdp --example inspect -- testdata/sdp/chromium-offer-av-dc.sdp
//! ```
//!
//! With no argument (or `-`) it reads standard input.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fmt::Write as _;
use std::io::Read;
use std::process::ExitCode;

use rtcwire_sdp::{Attribute, Candidate, Codec, MediaView, Sdp};

fn main() -> ExitCode {
    let arg = std::env::args().nth(1);
    let (name, text) = match arg.as_deref() {
        None | Some("-") => {
            let mut s = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut s) {
                eprintln!("reading standard input: {e}");
                return ExitCode::FAILURE;
            }
            ("<stdin>".to_owned(), s)
        }
        Some(path) => match std::fs::read_to_string(path) {
            Ok(s) => (path.to_owned(), s),
            Err(e) => {
                eprintln!("{path}: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    match Sdp::parse(&text) {
        Ok(sdp) => {
            print!("{}", summary(&name, &sdp));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn summary(name: &str, sdp: &Sdp) -> String {
    let mut out = String::new();
    let s = sdp.session();
    let o = s.origin();
    let _ = writeln!(
        out,
        "{name}: {} lines, {} bytes, {} media section(s)",
        sdp.lines().len(),
        sdp.as_str().len(),
        sdp.media_count()
    );
    let _ = writeln!(
        out,
        "session  id {} version {}, origin {} {}",
        o.session_id, o.session_version, o.addr_type, o.address
    );
    for g in s.groups() {
        let mids: Vec<&str> = g.mids.iter().map(|m| m.as_ref()).collect();
        let _ = writeln!(out, "  group    {} [{}]", g.semantics, mids.join(", "));
    }
    if let Some(w) = s.msid_semantic() {
        let ids: Vec<&str> = w.ids.iter().map(|m| m.as_ref()).collect();
        let _ = writeln!(out, "  msid     {} {}", w.semantic, ids.join(" "));
    }
    let mut flags = Vec::new();
    if s.extmap_allow_mixed() {
        flags.push("extmap-allow-mixed");
    }
    if s.ice_lite() {
        flags.push("ice-lite");
    }
    if !flags.is_empty() {
        let _ = writeln!(out, "  flags    {}", flags.join(", "));
    }
    // The typed model collects what it does not model in `attributes`: show those too.
    let model = sdp.description();
    for (m, typed) in sdp.media().zip(&model.media) {
        media(&mut out, &m, &typed.attributes);
    }
    out
}

fn media(out: &mut String, m: &MediaView<'_>, other: &[Attribute<'_>]) {
    let _ = writeln!(out);
    let rtp = m.is_rtp();
    let direction = if rtp {
        format!(" {}", m.direction())
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "[{}] {} mid={}{direction} port {} {}",
        m.index(),
        m.kind(),
        m.mid().unwrap_or("-"),
        m.port(),
        m.proto()
    );
    let mut flags = Vec::new();
    for (on, name) in [
        (m.rtcp_mux(), "rtcp-mux"),
        (m.rtcp_rsize(), "rtcp-rsize"),
        (rtp && m.extmap_allow_mixed(), "extmap-allow-mixed"),
        (m.end_of_candidates(), "end-of-candidates"),
    ] {
        if on {
            flags.push(name);
        }
    }
    if !flags.is_empty() {
        let _ = writeln!(out, "  flags      {}", flags.join(", "));
    }
    let codecs = m.codecs();
    if !codecs.is_empty() {
        let _ = writeln!(out, "  codecs");
        for c in &codecs {
            codec(out, c);
        }
    }
    for e in m.extmaps() {
        let dir = e.direction.map(|d| format!("/{d}")).unwrap_or_default();
        let _ = writeln!(out, "  extmap     {:>2}{dir} {}", e.id, e.uri);
    }
    for msid in m.msids() {
        let _ = writeln!(
            out,
            "  msid       {} {}",
            msid.stream,
            msid.track.as_deref().unwrap_or("")
        );
    }
    for g in m.ssrc_groups() {
        let ssrcs: Vec<String> = g.ssrcs.iter().map(u32::to_string).collect();
        let _ = writeln!(out, "  ssrc-group {} {}", g.semantics, ssrcs.join(" "));
    }
    let mut seen: Vec<u32> = Vec::new();
    for a in m.ssrcs() {
        if !seen.contains(&a.ssrc) {
            seen.push(a.ssrc);
            let _ = writeln!(
                out,
                "  ssrc       {} cname {}",
                a.ssrc,
                m.cname(a.ssrc).unwrap_or("-")
            );
        }
    }
    for r in m.rids() {
        let _ = writeln!(out, "  rid        {r}");
    }
    if let Some(sc) = m.simulcast() {
        let _ = writeln!(out, "  simulcast  {sc}");
    }
    let _ = writeln!(
        out,
        "  ice        ufrag {} pwd {} options [{}]",
        m.ice_ufrag().unwrap_or("-"),
        m.ice_pwd()
            .map_or("-".to_owned(), |p| format!("{} chars", p.len())),
        m.ice_options().collect::<Vec<_>>().join(" ")
    );
    for c in m.candidates() {
        candidate(out, &c);
    }
    let setup = m.setup().map_or("-", |s| s.as_str());
    let fps: Vec<_> = m.fingerprints().collect();
    if fps.is_empty() {
        let _ = writeln!(out, "  dtls       setup {setup}, no fingerprint");
    }
    for f in fps {
        let head: Vec<String> = f.value.iter().take(4).map(|b| format!("{b:02X}")).collect();
        let _ = writeln!(
            out,
            "  dtls       setup {setup}, {} {}:… ({} bytes)",
            f.algorithm,
            head.join(":"),
            f.value.len()
        );
    }
    if let Some(port) = m.sctp_port() {
        let max = m
            .max_message_size()
            .map_or("unset (64 KiB)".to_owned(), |n| n.to_string());
        let _ = writeln!(out, "  sctp       port {port}, max-message-size {max}");
    }
    let other: Vec<String> = other.iter().map(Attribute::to_string).collect();
    if !other.is_empty() {
        let _ = writeln!(out, "  other      {}", other.join(" | "));
    }
}

fn codec(out: &mut String, c: &Codec<'_>) {
    let ch = c.channels.map(|n| format!("/{n}")).unwrap_or_default();
    let _ = write!(
        out,
        "    {:>3} {}/{}{ch}",
        c.payload_type, c.name, c.clock_rate
    );
    if let Some(apt) = c.rtx_apt() {
        let _ = write!(out, " (repairs {apt})");
    } else if let Some(p) = &c.fmtp {
        let _ = write!(out, "  [{p}]");
    }
    if !c.feedback.is_empty() {
        let fb: Vec<&str> = c.feedback.iter().map(|f| f.as_ref()).collect();
        let _ = write!(out, "  fb: {}", fb.join(", "));
    }
    let _ = writeln!(out);
}

fn candidate(out: &mut String, c: &Candidate<'_>) {
    let _ = write!(
        out,
        "  candidate  {} {} {}:{} component {} priority {}",
        c.kind.as_str(),
        c.transport,
        c.address,
        c.port,
        c.component,
        c.priority
    );
    if let (Some(a), Some(p)) = (&c.related_address, c.related_port) {
        let _ = write!(out, " from {a}:{p}");
    }
    if let Some(t) = c.tcp_type {
        let _ = write!(out, " tcptype {}", t.as_str());
    }
    let _ = writeln!(out);
}
