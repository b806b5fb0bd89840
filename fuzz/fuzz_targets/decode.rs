//! Fuzzes the streaming decoder: the first byte picks the protocol version and the maximum
//! packet size, the rest is the byte stream. Every packet decoded must encode again and decode
//! to itself; `Ok(None)` must leave the buffer untouched.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use mq::protocol::{Version, decode, encode, encoded_len};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, stream)) = data.split_first() else {
        return;
    };
    let version = [Version::V31, Version::V311, Version::V5][usize::from(selector % 3)];
    let max = match selector >> 2 {
        0 => u32::MAX,
        n => u32::from(n) * 16,
    };
    let mut buf = BytesMut::from(stream);
    loop {
        let before = buf.len();
        match decode(&mut buf, version, max) {
            Ok(None) => {
                assert_eq!(buf.len(), before);
                break;
            }
            Err(_) => break,
            Ok(Some(p)) => {
                assert!(buf.len() < before);
                let mut again = BytesMut::new();
                encode(&p, version, &mut again).expect("a decoded packet encodes");
                assert_eq!(again.len(), encoded_len(&p, version));
                let back = decode(&mut again, version, u32::MAX).expect("re-decodes");
                assert_eq!(back.as_ref(), Some(&p));
            }
        }
    }
});
