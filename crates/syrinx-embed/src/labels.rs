//! The model's species labels: `Scientific name_Common name`, one per line, in logit order.

use std::path::Path;

use crate::EmbedError;

/// One species.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Label {
    pub scientific: String,
    pub common: String,
}

/// All labels, indexed like the logits.
#[derive(Debug, Clone, Default)]
pub struct Labels(Vec<Label>);

impl Labels {
    pub fn load(path: &Path) -> Result<Self, EmbedError> {
        let text = std::fs::read_to_string(path).map_err(|e| EmbedError::Labels {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Ok(Self::parse(&text))
    }

    pub fn parse(text: &str) -> Self {
        Labels(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|l| match l.split_once('_') {
                    Some((s, c)) => Label {
                        scientific: s.to_string(),
                        common: c.to_string(),
                    },
                    None => Label {
                        scientific: l.to_string(),
                        common: l.to_string(),
                    },
                })
                .collect(),
        )
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, index: usize) -> Option<&Label> {
        self.0.get(index)
    }

    /// Index of a species by scientific or common name (case-insensitive).
    pub fn find(&self, name: &str) -> Option<usize> {
        self.0.iter().position(|l| {
            l.scientific.eq_ignore_ascii_case(name) || l.common.eq_ignore_ascii_case(name)
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = &Label> {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_scientific_and_common_without_final_newline() {
        let l = Labels::parse("Parus major_Great Tit\nTurdus merula_Eurasian Blackbird");
        assert_eq!(l.len(), 2);
        assert_eq!(
            l.get(1).map(|x| x.common.as_str()),
            Some("Eurasian Blackbird")
        );
        assert_eq!(l.find("great tit"), Some(0));
        assert_eq!(l.find("Turdus merula"), Some(1));
    }
}
