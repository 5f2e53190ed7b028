//! H.264 (RFC 6184), packetization-mode 1: single NAL unit, STAP-A and FU-A packets.
//! Frames are Annex B byte streams (start code before every NAL unit).

use crate::codec::{Depacketizer, Packetizer, PayloadInfo};
use crate::error::{Error, Result};
use std::ops::Range;

const STAP_A: u8 = 24;
const FU_A: u8 = 28;
const NAL_IDR: u8 = 5;
const NAL_SPS: u8 = 7;
const NAL_PPS: u8 = 8;
const START_CODE: [u8; 4] = [0, 0, 0, 1];

fn bad(reason: &'static str) -> Error {
    Error::BadPayload {
        codec: "H.264",
        reason,
    }
}

/// Splits an Annex B byte stream into NAL unit ranges (start codes of 3 or 4 bytes).
pub(crate) fn split_annex_b(stream: &[u8], out: &mut Vec<Range<usize>>) {
    out.clear();
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= stream.len() {
        if stream.get(i..i + 3) == Some(&[0, 0, 1]) {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    for (k, &s) in starts.iter().enumerate() {
        let mut end = starts.get(k + 1).map_or(stream.len(), |&n| n - 3);
        // Trailing zeros belong to the next start code (4-byte form) or are trailing bytes.
        while end > s && stream.get(end - 1) == Some(&0) {
            end -= 1;
        }
        if end > s {
            out.push(s..end);
        }
    }
}

/// H.264 packetizer (packetization-mode 1). Small NAL units are aggregated into STAP-A
/// packets, large ones fragmented into FU-A. With
/// [`insert_parameter_sets`](Self::insert_parameter_sets), the latest SPS and PPS are sent
/// before any IDR frame that lacks them, so a receiver joining late can decode.
#[derive(Debug, Clone, Default)]
pub struct H264Packetizer {
    insert_parameter_sets: bool,
    sps: Vec<u8>,
    pps: Vec<u8>,
    nals: Vec<Range<usize>>,
    scratch: Vec<u8>,
}

impl H264Packetizer {
    /// A packetizer that sends frames as they are.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether to repeat cached SPS/PPS before IDR frames that lack them.
    pub fn insert_parameter_sets(mut self, on: bool) -> Self {
        self.insert_parameter_sets = on;
        self
    }
}

impl Packetizer for H264Packetizer {
    fn packetize(
        &mut self,
        frame: &[u8],
        mtu: usize,
        emit: &mut dyn FnMut(&[u8], bool),
    ) -> Result<()> {
        if mtu < 3 {
            return Err(Error::CannotPacketize("MTU too small for FU-A"));
        }
        let mut nals = std::mem::take(&mut self.nals);
        split_annex_b(frame, &mut nals);
        if nals.is_empty() {
            self.nals = nals;
            return Err(Error::CannotPacketize("no NAL unit in the H.264 frame"));
        }
        // Parameter sets: remember the latest, prepend them to an IDR frame without them.
        let mut units: Vec<&[u8]> = Vec::with_capacity(nals.len() + 2);
        let (mut has_sps, mut has_pps, mut has_idr) = (false, false, false);
        for r in &nals {
            let nal = frame.get(r.clone()).unwrap_or(&[]);
            match nal.first().map(|b| b & 0x1f) {
                Some(NAL_SPS) => has_sps = true,
                Some(NAL_PPS) => has_pps = true,
                Some(NAL_IDR) => has_idr = true,
                _ => {}
            }
        }
        if self.insert_parameter_sets {
            for r in &nals {
                let nal = frame.get(r.clone()).unwrap_or(&[]);
                match nal.first().map(|b| b & 0x1f) {
                    Some(NAL_SPS) => self.sps = nal.to_vec(),
                    Some(NAL_PPS) => self.pps = nal.to_vec(),
                    _ => {}
                }
            }
        }
        let sps = std::mem::take(&mut self.sps);
        let pps = std::mem::take(&mut self.pps);
        if self.insert_parameter_sets
            && has_idr
            && !(has_sps && has_pps)
            && !sps.is_empty()
            && !pps.is_empty()
        {
            units.push(&sps);
            units.push(&pps);
        }
        units.extend(nals.iter().map(|r| frame.get(r.clone()).unwrap_or(&[])));
        let result = self.emit_units(&units, mtu, emit);
        self.sps = sps;
        self.pps = pps;
        self.nals = nals;
        result
    }
}

impl H264Packetizer {
    fn emit_units(
        &mut self,
        units: &[&[u8]],
        mtu: usize,
        emit: &mut dyn FnMut(&[u8], bool),
    ) -> Result<()> {
        let mut i = 0;
        while let Some(&nal) = units.get(i) {
            let hdr = *nal
                .first()
                .ok_or(Error::CannotPacketize("empty NAL unit"))?;
            if nal.len() > mtu {
                // FU-A: indicator keeps F and NRI, header carries S/E and the type.
                let body = nal.get(1..).unwrap_or(&[]);
                let room = mtu - 2;
                let n = body.len().div_ceil(room);
                for (k, chunk) in body.chunks(room).enumerate() {
                    self.scratch.clear();
                    let s = if k == 0 { 0x80 } else { 0 };
                    let e = if k + 1 == n { 0x40 } else { 0 };
                    self.scratch.push((hdr & 0xe0) | FU_A);
                    self.scratch.push(s | e | (hdr & 0x1f));
                    self.scratch.extend_from_slice(chunk);
                    emit(&self.scratch, k + 1 == n && i + 1 == units.len());
                }
                i += 1;
                continue;
            }
            // Aggregate as many following units as fit into one STAP-A.
            let mut j = i + 1;
            let mut size = 1 + 2 + nal.len();
            while let Some(next) = units.get(j) {
                if next.is_empty() || next.len() > 0xffff || size + 2 + next.len() > mtu {
                    break;
                }
                size += 2 + next.len();
                j += 1;
            }
            if j == i + 1 {
                emit(nal, i + 1 == units.len());
            } else {
                self.scratch.clear();
                let group = units.get(i..j).unwrap_or(&[]);
                let nri = group
                    .iter()
                    .map(|u| u.first().map_or(0, |b| b & 0x60))
                    .max()
                    .unwrap_or(0);
                let f = group
                    .iter()
                    .map(|u| u.first().map_or(0, |b| b & 0x80))
                    .max()
                    .unwrap_or(0);
                self.scratch.push(f | nri | STAP_A);
                for u in group {
                    self.scratch
                        .extend_from_slice(&(u.len() as u16).to_be_bytes());
                    self.scratch.extend_from_slice(u);
                }
                emit(&self.scratch, j == units.len());
            }
            i = j;
        }
        Ok(())
    }
}

/// Whether a NAL unit of `nal_type`, whose first byte after the NAL header is `next`, can
/// begin an access unit: an AUD, SEI, SPS or PPS, or the first slice of a picture
/// (`first_mb_in_slice` = 0, coded as the single bit `1`).
fn starts_access_unit(nal_type: u8, next: Option<u8>) -> bool {
    match nal_type {
        6..=9 => true,
        1 | 5 => next.is_some_and(|b| b & 0x80 != 0),
        _ => false,
    }
}

/// H.264 depacketizer: writes Annex B (4-byte start codes). Reports keyframes (IDR) and
/// whether SPS/PPS were seen.
#[derive(Debug, Clone, Default)]
pub struct H264Depacketizer {
    in_fu: bool,
    seen_sps: bool,
    seen_pps: bool,
}

impl H264Depacketizer {
    /// Whether an SPS and a PPS have been received (a decoder needs both before an IDR).
    pub fn has_parameter_sets(&self) -> bool {
        self.seen_sps && self.seen_pps
    }

    fn note(&mut self, nal_type: u8) -> bool {
        match nal_type {
            NAL_SPS => self.seen_sps = true,
            NAL_PPS => self.seen_pps = true,
            _ => {}
        }
        nal_type == NAL_IDR
    }
}

impl Depacketizer for H264Depacketizer {
    fn depacketize(&mut self, payload: &[u8], frame: &mut Vec<u8>) -> Result<PayloadInfo> {
        let hdr = *payload.first().ok_or(bad("empty payload"))?;
        let mut info = PayloadInfo::default();
        match hdr & 0x1f {
            1..=23 => {
                self.in_fu = false;
                info.frame_start = starts_access_unit(hdr & 0x1f, payload.get(1).copied());
                info.keyframe = self.note(hdr & 0x1f);
                frame.extend_from_slice(&START_CODE);
                frame.extend_from_slice(payload);
            }
            STAP_A => {
                self.in_fu = false;
                let mut at = 1;
                // Each unit advances at least 2 bytes.
                while at < payload.len() {
                    if at + 2 > payload.len() {
                        return Err(bad("STAP-A size cut"));
                    }
                    let len = usize::from(crate::wire::u16_at(payload, at));
                    let nal = payload
                        .get(at + 2..at + 2 + len)
                        .ok_or(bad("STAP-A unit overruns"))?;
                    let t = nal.first().ok_or(bad("empty STAP-A unit"))? & 0x1f;
                    if at == 1 {
                        info.frame_start = starts_access_unit(t, nal.get(1).copied());
                    }
                    info.keyframe |= self.note(t);
                    frame.extend_from_slice(&START_CODE);
                    frame.extend_from_slice(nal);
                    at += 2 + len;
                }
            }
            FU_A => {
                let fu = *payload.get(1).ok_or(bad("FU header missing"))?;
                let (start, end, t) = (fu & 0x80 != 0, fu & 0x40 != 0, fu & 0x1f);
                if start {
                    info.frame_start = starts_access_unit(t, payload.get(2).copied());
                    info.keyframe = self.note(t);
                    frame.extend_from_slice(&START_CODE);
                    frame.push((hdr & 0xe0) | t);
                    self.in_fu = true;
                } else if !self.in_fu {
                    return Err(bad("FU-A continuation without its start"));
                }
                frame.extend_from_slice(payload.get(2..).unwrap_or(&[]));
                if end {
                    self.in_fu = false;
                }
            }
            _ => return Err(bad("NAL type not allowed in packetization-mode 1")),
        }
        Ok(info)
    }

    fn reset(&mut self) {
        self.in_fu = false;
    }
}
