//! Quizzes, answers and results.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::content::Difficulty;
use super::string_enum::string_enum;

string_enum! {
    /// The kind of a question, which sets the form of its answer.
    pub enum QuestionType {
        /// One of the options.
        MultipleChoice => "multiple_choice",
        /// `True` or `False`.
        TrueFalse => "true_false",
        /// Free text.
        ShortAnswer => "short_answer",
        /// The word that fills a gap.
        FillBlank => "fill_blank",
    }
}

/// An answer or a correct answer: one text or a list of texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AnswerValue {
    /// A single answer.
    Text(String),
    /// Several answers, compared as a set.
    List(Vec<String>),
}

impl From<&str> for AnswerValue {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}

impl From<String> for AnswerValue {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}

impl From<Vec<String>> for AnswerValue {
    fn from(value: Vec<String>) -> Self {
        Self::List(value)
    }
}

/// Images or video attached to a question.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Media {
    /// Address of an image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// Address of a video.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_url: Option<String>,
}

/// A question to create, with its correct answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewQuestion {
    /// The question as shown to the learner.
    pub question_text: String,
    /// Kind of question.
    pub question_type: QuestionType,
    /// Choices, for multiple choice and true/false.
    #[serde(default, deserialize_with = "super::null_as_default")]
    pub options: Vec<String>,
    /// The correct answer.
    pub correct_answer: AnswerValue,
    /// Points for a correct answer.
    pub points: u32,
    /// Explanation of the correct answer, shown after submission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    /// Attached media.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<Media>,
}

impl NewQuestion {
    /// Creates a question with no options, worth `points`.
    pub fn new(
        question_type: QuestionType,
        question_text: impl Into<String>,
        correct_answer: impl Into<AnswerValue>,
        points: u32,
    ) -> Self {
        Self {
            question_text: question_text.into(),
            question_type,
            options: Vec::new(),
            correct_answer: correct_answer.into(),
            points,
            explanation: None,
            media: None,
        }
    }

    /// Sets the choices.
    pub fn options<I, S>(mut self, options: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.options = options.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the explanation.
    pub fn explanation(mut self, explanation: impl Into<String>) -> Self {
        self.explanation = Some(explanation.into());
        self
    }
}

/// Body of `POST /quiz/create`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewQuiz {
    /// Title.
    pub title: String,
    /// Subject.
    pub subject: String,
    /// School grade, 1 to 12.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade_level: Option<u8>,
    /// Difficulty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difficulty: Option<Difficulty>,
    /// Time limit in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_limit: Option<u32>,
    /// Course the quiz belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course_id: Option<String>,
    /// Questions, which the server numbers `q1..qN` in this order.
    pub questions: Vec<NewQuestion>,
}

impl NewQuiz {
    /// Creates a quiz with a title, a subject and questions.
    pub fn new(
        title: impl Into<String>,
        subject: impl Into<String>,
        questions: Vec<NewQuestion>,
    ) -> Self {
        Self {
            title: title.into(),
            subject: subject.into(),
            grade_level: None,
            difficulty: None,
            time_limit: None,
            course_id: None,
            questions,
        }
    }

    /// Sets the school grade (1 to 12).
    pub fn grade_level(mut self, grade_level: u8) -> Self {
        self.grade_level = Some(grade_level);
        self
    }

    /// Sets the difficulty.
    pub fn difficulty(mut self, difficulty: Difficulty) -> Self {
        self.difficulty = Some(difficulty);
        self
    }

    /// Sets the time limit in seconds.
    pub fn time_limit(mut self, seconds: u32) -> Self {
        self.time_limit = Some(seconds);
        self
    }

    /// Sets the course the quiz belongs to.
    pub fn course_id(mut self, course_id: impl Into<String>) -> Self {
        self.course_id = Some(course_id.into());
        self
    }
}

/// A question as the server returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    /// Id within the quiz, `q1..qN`.
    pub id: String,
    /// The question as shown to the learner.
    pub question_text: String,
    /// Kind of question.
    pub question_type: QuestionType,
    /// Choices.
    #[serde(default, deserialize_with = "super::null_as_default")]
    pub options: Vec<String>,
    /// The correct answer, which students do not see.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correct_answer: Option<AnswerValue>,
    /// Points for a correct answer.
    #[serde(default)]
    pub points: u32,
    /// Explanation of the correct answer, which students do not see.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    /// Attached media.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<Media>,
}

/// A quiz as the server returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quiz {
    /// Server-assigned id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Subject.
    pub subject: String,
    /// School grade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade_level: Option<u8>,
    /// Difficulty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difficulty: Option<Difficulty>,
    /// Time limit in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_limit: Option<u32>,
    /// Course the quiz belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course_id: Option<String>,
    /// Sum of the questions' points.
    pub total_points: u32,
    /// Questions, in order.
    #[serde(default, deserialize_with = "super::null_as_default")]
    pub questions: Vec<Question>,
    /// When the quiz was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
}

/// One answer of a submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// Id of the question, `q1..qN`.
    pub question_id: String,
    /// The learner's answer.
    pub answer: AnswerValue,
}

impl Answer {
    /// Creates an answer to a question.
    pub fn new(question_id: impl Into<String>, answer: impl Into<AnswerValue>) -> Self {
        Self {
            question_id: question_id.into(),
            answer: answer.into(),
        }
    }
}

/// Body of `POST /quiz/{id}/submit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuizSubmission {
    /// Answers, at most one per question.
    pub answers: Vec<Answer>,
    /// Seconds the learner took.
    pub time_taken: u64,
}

/// The score of a submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuizResult {
    /// Id of the quiz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiz_id: Option<String>,
    /// Points scored.
    pub score: u32,
    /// Points available.
    pub total_points: u32,
    /// Score over total points, times 100.
    pub percentage: f64,
    /// Whether the percentage reached the pass mark.
    pub passed: bool,
    /// Experience points earned.
    #[serde(default)]
    pub xp_earned: u32,
    /// Names of achievements this submission unlocked.
    #[serde(default, deserialize_with = "super::null_as_default")]
    pub achievements_unlocked: Vec<String>,
    /// Seconds taken, as submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_taken: Option<u64>,
    /// When the submission was scored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<DateTime<Utc>>,
}
