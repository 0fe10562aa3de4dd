//! What must hold for the Vision reader on any input; shared by the fuzz target and a stable
//! test. The first input byte chooses where to cut the rest in two.

use vless::vision::Vision;

/// The user id the inputs are read against; fuzz inputs reach the padded branches by
/// starting with it.
pub const USER: [u8; 16] = [0x42; 16];

/// Reads `data[1..]` whole and cut in two; panics (a finding) if the results differ.
pub fn run(data: &[u8]) {
    let Some((&cut, input)) = data.split_first() else {
        return;
    };
    let mut whole = Vision::new(USER);
    let mut whole_out = Vec::new();
    let whole_result = whole.read(input, &mut whole_out);

    let at = usize::from(cut).min(input.len());
    let mut split = Vision::new(USER);
    let mut split_out = Vec::new();
    let split_result = split
        .read(&input[..at], &mut split_out)
        .and_then(|_| split.read(&input[at..], &mut split_out));

    assert_eq!(
        whole_result, split_result,
        "cutting the input changed the outcome"
    );
    if whole_result.is_ok() {
        assert_eq!(
            whole_out, split_out,
            "cutting the input changed the content"
        );
    }
    assert!(
        whole_out.len() <= input.len(),
        "content longer than its frames"
    );
}
