//! LEB128 as AV1 uses it (at most 8 bytes, values below 2^32 in practice).

/// Reads a LEB128 value from the start of `b`: (value, bytes used).
pub(crate) fn read(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &byte) in b.iter().take(8).enumerate() {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// Bytes the minimal encoding of `v` takes.
pub(crate) fn len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Appends the minimal encoding of `v`.
pub(crate) fn write(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_encodings_round_trip() {
        for (v, bytes) in [
            (0u64, &[0x00][..]),
            (127, &[0x7f]),
            (128, &[0x80, 0x01]),
            (2000, &[0xd0, 0x0f]),
        ] {
            let mut out = Vec::new();
            write(v, &mut out);
            assert_eq!(out, bytes);
            assert_eq!(len(v), bytes.len());
            assert_eq!(read(bytes), Some((v, bytes.len())));
        }
        // Unterminated, or longer than 8 bytes: rejected.
        assert_eq!(read(&[0x80, 0x80]), None);
        assert_eq!(read(&[0xff; 9]), None);
    }
}
