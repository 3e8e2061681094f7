//! Quizzes: creation, retrieval, submission and timed attempts.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::Duration;

use reqwest::header::HeaderValue;

use tokio::time::Instant;

use crate::client::Client;
use crate::error::{APIError, Result};
use crate::models::{Answer, AnswerValue, NewQuiz, Quiz, QuizResult, QuizSubmission};
use crate::transport::{new_idempotency_key, require_id, Call};

/// Creates, fetches and submits quizzes.
///
/// ```no_run
/// # async fn run(client: toolboxai::Client) -> toolboxai::Result<()> {
/// use toolboxai::{Answer, NewQuestion, NewQuiz, QuestionType};
///
/// let quiz = client
///     .quizzes()
///     .create(&NewQuiz::new(
///         "Test Quiz",
///         "Math",
///         vec![NewQuestion::new(QuestionType::MultipleChoice, "What is 2+2?", "4", 1)
///             .options(["3", "4", "5", "6"])],
///     ))
///     .await?;
/// let result = client
///     .quizzes()
///     .submit(&quiz.id, vec![Answer::new("q1", "4")], 60)
///     .await?;
/// assert!(result.passed);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct QuizManager {
    client: Client,
}

impl QuizManager {
    pub(crate) fn new(client: Client) -> Self {
        Self { client }
    }

    /// Creates a quiz with `POST /quiz/create`. The server numbers the
    /// questions `q1..qN` in order and sums their points.
    ///
    /// # Errors
    ///
    /// [`APIError::Forbidden`] for students, [`APIError::Validation`] for
    /// invalid fields, and the [errors of every
    /// call](crate#errors-of-every-call).
    pub async fn create(&self, quiz: &NewQuiz) -> Result<Quiz> {
        let call = Call::post(&["quiz", "create"], quiz)?;
        self.client.send(call).await
    }

    /// Fetches a quiz with `GET /quiz/{id}`. Students receive it without
    /// correct answers and explanations.
    ///
    /// # Errors
    ///
    /// [`APIError::NotFound`] for an unknown id, [`APIError::InvalidInput`] for
    /// an empty one, and the [errors of every
    /// call](crate#errors-of-every-call).
    pub async fn get(&self, quiz_id: &str) -> Result<Quiz> {
        let quiz_id = require_id("quiz id", quiz_id)?;
        self.client.send(Call::get(&["quiz", quiz_id])).await
    }

    /// Submits answers with `POST /quiz/{id}/submit` and returns the score.
    /// `time_taken` is in seconds.
    ///
    /// # Errors
    ///
    /// [`APIError::NotFound`] for an unknown quiz, [`APIError::Validation`] for
    /// answers to unknown questions, and the [errors of every
    /// call](crate#errors-of-every-call).
    pub async fn submit(
        &self,
        quiz_id: &str,
        answers: Vec<Answer>,
        time_taken: u64,
    ) -> Result<QuizResult> {
        self.send_submission(quiz_id, answers, time_taken, None)
            .await
    }

    async fn send_submission(
        &self,
        quiz_id: &str,
        answers: Vec<Answer>,
        time_taken: u64,
        idempotency_key: Option<HeaderValue>,
    ) -> Result<QuizResult> {
        let quiz_id = require_id("quiz id", quiz_id)?;
        let submission = QuizSubmission {
            answers,
            time_taken,
        };
        let mut call = Call::post(&["quiz", quiz_id, "submit"], &submission)?;
        call.idempotency_key = idempotency_key;
        self.client.send(call).await
    }

    /// Loads a quiz with `GET /quiz/{id}` and starts a timed attempt at it.
    /// The clock starts when the quiz has arrived.
    ///
    /// # Errors
    ///
    /// The errors of [`QuizManager::get`].
    pub async fn start_attempt(&self, quiz_id: &str) -> Result<QuizAttempt> {
        let quiz = self.get(quiz_id).await?;
        Ok(QuizAttempt {
            manager: self.clone(),
            quiz,
            started: Instant::now(),
            answers: HashMap::new(),
            idempotency_key: new_idempotency_key(),
            submitted_after: OnceLock::new(),
        })
    }
}

/// An attempt at a quiz: records answers and measures the time taken from
/// the moment the quiz was loaded until submission.
///
/// An attempt is one submission: every [`QuizAttempt::submit`] of it sends
/// the same `Idempotency-Key` and the time taken at the first submit.
#[derive(Debug)]
pub struct QuizAttempt {
    manager: QuizManager,
    quiz: Quiz,
    started: Instant,
    answers: HashMap<String, AnswerValue>,
    idempotency_key: HeaderValue,
    /// Seconds from loading to the first submit, kept for later submits.
    submitted_after: OnceLock<u64>,
}

impl QuizAttempt {
    /// Returns the quiz being attempted.
    pub fn quiz(&self) -> &Quiz {
        &self.quiz
    }

    /// Records or replaces the answer to a question.
    ///
    /// # Errors
    ///
    /// [`APIError::InvalidInput`] when the quiz has no question with this id.
    pub fn answer(&mut self, question_id: &str, answer: impl Into<AnswerValue>) -> Result<()> {
        if !self.quiz.questions.iter().any(|q| q.id == question_id) {
            return Err(APIError::InvalidInput(format!(
                "quiz {} has no question {question_id:?}",
                self.quiz.id
            )));
        }
        self.answers.insert(question_id.to_owned(), answer.into());
        Ok(())
    }

    /// Returns the number of questions answered so far.
    pub fn answered(&self) -> usize {
        self.answers.len()
    }

    /// Returns the time since the quiz was loaded.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Submits the recorded answers with `POST /quiz/{id}/submit`, in
    /// question order, with the elapsed time in whole seconds, and returns
    /// the score. Unanswered questions are left out of the submission.
    ///
    /// Submitting again, for example after a [`APIError::Network`] error
    /// whose request may have arrived, sends the same key and time: a
    /// server that honours `Idempotency-Key` scores the attempt once and
    /// returns the same result. The time is fixed by the first call of this
    /// method, even one that failed before sending.
    ///
    /// # Errors
    ///
    /// The errors of [`QuizManager::submit`], and [`APIError::Validation`]
    /// (409) when an answer changed after an earlier submit of this attempt
    /// succeeded on the server, whether or not its response arrived.
    pub async fn submit(&self) -> Result<QuizResult> {
        let answers = self
            .quiz
            .questions
            .iter()
            .filter_map(|question| {
                let answer = self.answers.get(&question.id)?;
                Some(Answer::new(question.id.clone(), answer.clone()))
            })
            .collect();
        let time_taken = *self
            .submitted_after
            .get_or_init(|| self.elapsed().as_secs());
        self.manager
            .send_submission(
                &self.quiz.id,
                answers,
                time_taken,
                Some(self.idempotency_key.clone()),
            )
            .await
    }
}
