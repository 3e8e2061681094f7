//! Quiz scoring and experience points.
//!
//! A question earns its points when its answer is correct, and nothing when
//! it is wrong or unanswered:
//!
//! - `multiple_choice`, `true_false` and question types the crate does not
//!   know compare texts exactly.
//! - `short_answer` and `fill_blank` compare texts after trimming whitespace,
//!   without regard to case.
//! - A list correct answer matches a list answer with the same set of texts,
//!   compared after trimming and with regard to case. A list never matches a
//!   single text, nor the other way round.
//!
//! `percentage` is `score / total_points * 100`, and 0 when the quiz has no
//! points. A submission passes when the percentage is at least 70.
//!
//! Experience points are 10 per point scored, plus 20 when the submission
//! passed, plus 50 when it scored every point of a quiz worth more than 0.

use std::collections::{BTreeSet, HashSet};

use crate::models::{Answer, AnswerValue, Question, QuestionType};

/// Minimum percentage that passes a quiz.
pub(crate) const PASS_PERCENTAGE: f64 = 70.0;

/// The outcome of scoring one submission.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Score {
    pub(crate) score: u32,
    pub(crate) total_points: u32,
    pub(crate) percentage: f64,
    pub(crate) passed: bool,
    pub(crate) perfect: bool,
}

/// An answer that cannot be scored, with its index in the submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AnswerError {
    /// The answer names a question the quiz does not have.
    UnknownQuestion { index: usize, question_id: String },
    /// The answer names a question already answered earlier.
    DuplicateAnswer { index: usize, question_id: String },
}

/// Returns whether `given` is a correct answer to a question of
/// `question_type` whose correct answer is `correct`.
pub(crate) fn is_correct(
    question_type: &QuestionType,
    correct: &AnswerValue,
    given: &AnswerValue,
) -> bool {
    match (correct, given) {
        (AnswerValue::List(expected), AnswerValue::List(actual)) => {
            trimmed_set(expected) == trimmed_set(actual)
        }
        (AnswerValue::Text(expected), AnswerValue::Text(actual)) => match question_type {
            QuestionType::ShortAnswer | QuestionType::FillBlank => {
                expected.trim().to_lowercase() == actual.trim().to_lowercase()
            }
            _ => expected == actual,
        },
        _ => false,
    }
}

fn trimmed_set(texts: &[String]) -> BTreeSet<&str> {
    texts.iter().map(|text| text.trim()).collect()
}

/// Scores `answers` against the questions of a quiz.
///
/// # Errors
///
/// Returns the first answer whose question id is unknown or already answered.
pub(crate) fn score(questions: &[Question], answers: &[Answer]) -> Result<Score, AnswerError> {
    let mut answered = HashSet::new();
    let mut score: u32 = 0;
    for (index, answer) in answers.iter().enumerate() {
        let question_id = answer.question_id.clone();
        let Some(question) = questions.iter().find(|q| q.id == answer.question_id) else {
            return Err(AnswerError::UnknownQuestion { index, question_id });
        };
        if !answered.insert(answer.question_id.as_str()) {
            return Err(AnswerError::DuplicateAnswer { index, question_id });
        }
        let correct = question
            .correct_answer
            .as_ref()
            .is_some_and(|correct| is_correct(&question.question_type, correct, &answer.answer));
        if correct {
            score = score.saturating_add(question.points);
        }
    }

    let total_points = questions.iter().fold(0u32, |total, question| {
        total.saturating_add(question.points)
    });
    let percentage = if total_points == 0 {
        0.0
    } else {
        f64::from(score) / f64::from(total_points) * 100.0
    };
    Ok(Score {
        score,
        total_points,
        percentage,
        passed: percentage >= PASS_PERCENTAGE,
        perfect: total_points > 0 && score == total_points,
    })
}

/// Returns the experience points a scored submission earns.
pub(crate) fn experience_points(score: &Score) -> u32 {
    let mut xp = score.score.saturating_mul(10);
    if score.passed {
        xp = xp.saturating_add(20);
    }
    if score.perfect {
        xp = xp.saturating_add(50);
    }
    xp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> AnswerValue {
        AnswerValue::Text(value.to_owned())
    }

    fn list(values: &[&str]) -> AnswerValue {
        AnswerValue::List(values.iter().map(|value| (*value).to_owned()).collect())
    }

    fn question(
        id: &str,
        question_type: QuestionType,
        correct: AnswerValue,
        points: u32,
    ) -> Question {
        Question {
            id: id.to_owned(),
            question_text: format!("Question {id}"),
            question_type,
            options: Vec::new(),
            correct_answer: Some(correct),
            points,
            explanation: None,
            media: None,
        }
    }

    #[test]
    fn answer_matching_table() {
        use QuestionType::*;
        let cases = [
            (MultipleChoice, text("42"), text("42"), true),
            (MultipleChoice, text("42"), text(" 42"), false),
            (TrueFalse, text("True"), text("true"), false),
            (TrueFalse, text("True"), text("True"), true),
            (ShortAnswer, text("0.75"), text(" 0.75 "), true),
            (ShortAnswer, text("Paris"), text("paris"), true),
            (ShortAnswer, text("Paris"), text("Lyon"), false),
            (FillBlank, text("Oxygen"), text("OXYGEN "), true),
            (Other("essay".into()), text("Yes"), text("yes"), false),
            (MultipleChoice, list(&["a", "b"]), list(&["b", " a"]), true),
            (MultipleChoice, list(&["a", "b"]), list(&["a"]), false),
            (MultipleChoice, list(&["a", "b"]), list(&["A", "b"]), false),
            (ShortAnswer, list(&["a"]), text("a"), false),
            (ShortAnswer, text("a"), list(&["a"]), false),
        ];
        for (question_type, correct, given, expected) in cases {
            assert_eq!(
                is_correct(&question_type, &correct, &given),
                expected,
                "{question_type} correct {correct:?} given {given:?}"
            );
        }
    }

    fn math_quiz() -> Vec<Question> {
        vec![
            question("q1", QuestionType::MultipleChoice, text("42"), 1),
            question("q2", QuestionType::TrueFalse, text("True"), 1),
            question("q3", QuestionType::ShortAnswer, text("0.75"), 2),
        ]
    }

    /// Answers as (question id, text), then score, percentage, passed and XP.
    type ScoringCase = (&'static [(&'static str, &'static str)], u32, f64, bool, u32);

    #[test]
    fn scoring_table() {
        let cases: [ScoringCase; 5] = [
            (
                &[("q1", "42"), ("q2", "True"), ("q3", "0.75")],
                4,
                100.0,
                true,
                110,
            ),
            (&[("q1", "42"), ("q3", "0.75")], 3, 75.0, true, 50),
            (
                &[("q1", "42"), ("q2", "False"), ("q3", "1")],
                1,
                25.0,
                false,
                10,
            ),
            (&[("q3", "0.75")], 2, 50.0, false, 20),
            (&[], 0, 0.0, false, 0),
        ];
        for (answers, points, percentage, passed, xp) in cases {
            let answers: Vec<Answer> = answers.iter().map(|(id, a)| Answer::new(*id, *a)).collect();
            let result = score(&math_quiz(), &answers).expect("answers are valid");
            assert_eq!(result.score, points, "score for {answers:?}");
            assert_eq!(result.total_points, 4, "total for {answers:?}");
            assert_eq!(result.percentage, percentage, "percentage for {answers:?}");
            assert_eq!(result.passed, passed, "passed for {answers:?}");
            assert_eq!(experience_points(&result), xp, "xp for {answers:?}");
        }
    }

    #[test]
    fn seventy_percent_passes() {
        let questions: Vec<Question> = (1..=10)
            .map(|i| question(&format!("q{i}"), QuestionType::MultipleChoice, text("a"), 1))
            .collect();
        let answers: Vec<Answer> = (1..=7).map(|i| Answer::new(format!("q{i}"), "a")).collect();
        let result = score(&questions, &answers).expect("answers are valid");
        assert!(result.passed);
    }

    #[test]
    fn zero_point_quiz_scores_zero_percent() {
        let questions = vec![question("q1", QuestionType::MultipleChoice, text("a"), 0)];
        let result = score(&questions, &[Answer::new("q1", "a")]).expect("answers are valid");
        assert_eq!(result.percentage, 0.0);
        assert!(!result.perfect);
    }

    #[test]
    fn unknown_question_rejected() {
        let result = score(&math_quiz(), &[Answer::new("q9", "42")]);
        let expected = AnswerError::UnknownQuestion {
            index: 0,
            question_id: "q9".to_owned(),
        };
        assert_eq!(result, Err(expected));
    }

    #[test]
    fn duplicate_answer_rejected() {
        let answers = [Answer::new("q1", "42"), Answer::new("q1", "41")];
        let expected = AnswerError::DuplicateAnswer {
            index: 1,
            question_id: "q1".to_owned(),
        };
        assert_eq!(score(&math_quiz(), &answers), Err(expected));
    }
}
