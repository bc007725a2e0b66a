//! Floats as go-yaml writes them: Go's `strconv.FormatFloat(f, 'g', -1, 64)`
//! (shortest digits that read back exactly, exponent form when the decimal
//! exponent is below -4 or at least 6, at least two exponent digits), with
//! the infinities and NaN spelled `.inf`, `-.inf` and `.nan`.
//!
//! Rust's `{:e}` formatting yields the same shortest digit string, so only
//! the layout is done here.

/// go-yaml's rendering of a float64.
pub(crate) fn format(value: f64) -> String {
    if value.is_nan() {
        return ".nan".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 {
            ".inf".to_owned()
        } else {
            "-.inf".to_owned()
        };
    }
    let sign = if value.is_sign_negative() { "-" } else { "" };
    if value == 0.0 {
        return format!("{sign}0");
    }
    // "d.ddddde[-]x": the shortest round-trip digits and the exponent.
    let scientific = format!("{:e}", value.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let count = digits.len();
    if !(-4..6).contains(&exponent) {
        // %e with all digits: d[.ddd]e±XX
        let (first, rest) = digits.split_at(1.min(count));
        let dot = if rest.is_empty() { "" } else { "." };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        return format!(
            "{sign}{first}{dot}{rest}e{exp_sign}{:02}",
            exponent.unsigned_abs()
        );
    }
    // %f with exactly the digits needed.
    let point = exponent + 1; // digits before the decimal point
    let mut out = String::from(sign);
    if point <= 0 {
        out.push('0');
    } else {
        for i in 0..point {
            out.push(digit_at(&digits, i));
        }
    }
    let decimals = i32::try_from(count).unwrap_or(i32::MAX) - point;
    if decimals > 0 {
        out.push('.');
        for i in 0..decimals {
            out.push(digit_at(&digits, point + i));
        }
    }
    out
}

/// Digit `i` of the digit string, `0` outside it.
fn digit_at(digits: &str, i: i32) -> char {
    usize::try_from(i)
        .ok()
        .and_then(|i| digits.as_bytes().get(i))
        .map_or('0', |&b| char::from(b))
}

#[cfg(test)]
mod tests {
    use super::format;

    #[test]
    fn matches_go_format_float_g() {
        let cases = [
            (1.0, "1"),
            (-1.5, "-1.5"),
            (0.0, "0"),
            (-0.0, "-0"),
            (100000.0, "100000"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e100, "1e+100"),
            (123.456, "123.456"),
            (0.1, "0.1"),
            (f64::MAX, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (f64::INFINITY, ".inf"),
            (f64::NEG_INFINITY, "-.inf"),
            (f64::NAN, ".nan"),
        ];
        for (value, want) in cases {
            assert_eq!(format(value), want, "value {value:e}");
        }
    }
}
