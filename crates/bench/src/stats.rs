//! Medians and ratios of timed runs.

/// Returns the median of `values`, or `None` when there are none. With an
/// even count it is the mean of the two middle values.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        Some(sorted[middle])
    } else {
        Some((sorted[middle - 1] + sorted[middle]) / 2.0)
    }
}

/// Returns the median of the ratios `ferry[i] / git[i]` of runs made one
/// after the other, which cancels load that changes slowly over a run.
pub fn median_pairwise_ratio(ferry: &[f64], git: &[f64]) -> Option<f64> {
    let ratios: Vec<f64> = ferry
        .iter()
        .zip(git)
        .filter(|(_, git)| **git > 0.0)
        .map(|(ferry, git)| ferry / git)
        .collect();
    median(&ratios)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_count() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
    }

    #[test]
    fn median_of_even_count() {
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn median_of_nothing() {
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn pairwise_ratio_pairs_runs_in_order() {
        let ratio = median_pairwise_ratio(&[1.0, 2.0, 9.0], &[2.0, 1.0, 3.0]);
        assert_eq!(ratio, Some(2.0));
    }
}
