//! The SM2 recommended curve's parameters (GB/T 32918.5), as bytes for the Z value.

/// Coefficient a.
pub const A: [u8; 32] = hex32("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC");
/// Coefficient b.
pub const B: [u8; 32] = hex32("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93");
/// Base point x.
pub const GX: [u8; 32] = hex32("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7");
/// Base point y.
pub const GY: [u8; 32] = hex32("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0");
/// Group order n.
pub const N: [u8; 32] = hex32("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123");

const fn hex32(s: &str) -> [u8; 32] {
    let b = s.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = nib(b[2 * i]) << 4 | nib(b[2 * i + 1]);
        i += 1;
    }
    out
}

const fn nib(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'A'..=b'F' => c - b'A' + 10,
        _ => panic!("not uppercase hex"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sm2::elliptic_curve::point::AffineCoordinates;
    use sm2::ProjectivePoint;

    #[test]
    fn generator_matches_the_standard() {
        let g = ProjectivePoint::GENERATOR.to_affine();
        assert_eq!(g.x().as_slice(), &GX);
        assert_eq!(g.y().as_slice(), &GY);
    }
}
