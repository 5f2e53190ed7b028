//! Bounds-checked big-endian field access. Views check lengths once when they are built;
//! these helpers make the accessors panic-free regardless (an out-of-range read gives 0, an
//! out-of-range write is ignored, and neither can happen after the view's checks).

#[inline]
pub(crate) fn u8_at(b: &[u8], at: usize) -> u8 {
    b.get(at).copied().unwrap_or(0)
}

#[inline]
pub(crate) fn u16_at(b: &[u8], at: usize) -> u16 {
    match b.get(at..at.wrapping_add(2)) {
        Some(&[x, y]) => u16::from_be_bytes([x, y]),
        _ => 0,
    }
}

#[inline]
pub(crate) fn u24_at(b: &[u8], at: usize) -> u32 {
    match b.get(at..at.wrapping_add(3)) {
        Some(&[x, y, z]) => u32::from_be_bytes([0, x, y, z]),
        _ => 0,
    }
}

#[inline]
pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    match b.get(at..at.wrapping_add(4)) {
        Some(&[w, x, y, z]) => u32::from_be_bytes([w, x, y, z]),
        _ => 0,
    }
}

#[inline]
pub(crate) fn u64_at(b: &[u8], at: usize) -> u64 {
    (u64::from(u32_at(b, at)) << 32) | u64::from(u32_at(b, at.wrapping_add(4)))
}

#[inline]
pub(crate) fn put_u8(b: &mut [u8], at: usize, v: u8) {
    if let Some(x) = b.get_mut(at) {
        *x = v;
    }
}

#[inline]
pub(crate) fn put_u16(b: &mut [u8], at: usize, v: u16) {
    if let Some(x) = b.get_mut(at..at.wrapping_add(2)) {
        x.copy_from_slice(&v.to_be_bytes());
    }
}

#[inline]
pub(crate) fn put_u24(b: &mut [u8], at: usize, v: u32) {
    if let Some(x) = b.get_mut(at..at.wrapping_add(3)) {
        x.copy_from_slice(&v.to_be_bytes()[1..]);
    }
}

#[inline]
pub(crate) fn put_u32(b: &mut [u8], at: usize, v: u32) {
    if let Some(x) = b.get_mut(at..at.wrapping_add(4)) {
        x.copy_from_slice(&v.to_be_bytes());
    }
}

#[inline]
pub(crate) fn put_u64(b: &mut [u8], at: usize, v: u64) {
    put_u32(b, at, (v >> 32) as u32);
    put_u32(b, at.wrapping_add(4), v as u32);
}

/// Copies `src` into `dst` at `at`; the caller has checked the room.
#[inline]
pub(crate) fn put_slice(dst: &mut [u8], at: usize, src: &[u8]) {
    if let Some(x) = dst.get_mut(at..at.wrapping_add(src.len())) {
        x.copy_from_slice(src);
    }
}

/// `b[range]`, or empty when out of range.
#[inline]
pub(crate) fn sub(b: &[u8], from: usize, to: usize) -> &[u8] {
    b.get(from..to).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_reads_are_zero_and_writes_are_ignored() {
        let b = [1, 2, 3];
        assert_eq!(u16_at(&b, 1), 0x0203);
        assert_eq!(u16_at(&b, 2), 0);
        assert_eq!(u32_at(&b, 0), 0);
        assert_eq!(u24_at(&b, 0), 0x01_0203);
        assert_eq!(u16_at(&b, usize::MAX), 0);
        let mut w = [0u8; 3];
        put_u32(&mut w, 0, 0xffff_ffff);
        put_u16(&mut w, usize::MAX, 1);
        assert_eq!(w, [0, 0, 0]);
        put_u24(&mut w, 0, 0x0a0b0c);
        assert_eq!(w, [0x0a, 0x0b, 0x0c]);
        assert_eq!(sub(&b, 2, 1), &[] as &[u8]);
    }
}
