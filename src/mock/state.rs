//! In-memory state of the mock and the event channel for the WebSocket.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::broadcast;

use super::fault::FaultQueue;
use super::idempotency::IdempotencyStore;
use super::record::RecordedRequest;
use super::tokens::TokenTable;
use crate::models::{Achievement, Content, Quiz, Role, User};

/// Id of the demo course, which also contains content and quizzes created
/// without a `course_id`.
pub(crate) const DEMO_COURSE_ID: &str = "course-123";

/// Capacity of the event channel. A receiver that falls further behind
/// misses the oldest events (`RecvError::Lagged`).
const EVENT_CHANNEL_CAPACITY: usize = 256;

/// An event for WebSocket clients, published by quiz submission
/// (`quiz_result`, `progress_update`) and content generation
/// (`content_update`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MockEvent {
    /// Id of the user whose action caused the event.
    pub(crate) user_id: String,
    /// Event type, the `type` of the socket envelope.
    pub(crate) event_type: String,
    /// Event payload, the `data` of the socket envelope.
    pub(crate) data: Value,
}

/// Everything the server task and the `MockServer` handle share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) store: Mutex<Store>,
    pub(crate) faults: Mutex<FaultQueue>,
    pub(crate) requests: Mutex<Vec<RecordedRequest>>,
    /// Counter behind the `X-Request-ID: req-<n>` response header.
    pub(crate) request_counter: AtomicU64,
    /// Sender of socket events. The WebSocket route subscribes to it, and
    /// sends are dropped while nothing is subscribed.
    pub(crate) events: broadcast::Sender<MockEvent>,
}

impl Shared {
    pub(crate) fn new(store: Store) -> Self {
        let (events, _) = broadcast::channel(EVENT_CHANNEL_CAPACITY);
        Self {
            store: Mutex::new(store),
            faults: Mutex::new(FaultQueue::default()),
            requests: Mutex::new(Vec::new()),
            request_counter: AtomicU64::new(0),
            events,
        }
    }

    /// Publishes an event for WebSocket clients.
    pub(crate) fn publish(&self, user_id: &str, event_type: &str, data: Value) {
        let event = MockEvent {
            user_id: user_id.to_owned(),
            event_type: event_type.to_owned(),
            data,
        };
        // An error only means that no socket is subscribed right now.
        let _ = self.events.send(event);
    }
}

/// Locks a mutex, recovering the data if a thread panicked while holding it,
/// so that one failed handler does not make every later request panic.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An account with its password.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub(crate) user: User,
    pub(crate) password: String,
}

/// One scored quiz submission.
#[derive(Debug, Clone)]
pub(crate) struct Submission {
    pub(crate) user_id: String,
    pub(crate) quiz_id: String,
    pub(crate) percentage: f64,
    pub(crate) passed: bool,
    pub(crate) time_taken: u64,
}

/// The kind of a user action counted by the analytics dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ActivityKind {
    Login,
    ContentGenerated,
    QuizCreated,
    QuizSubmitted,
}

/// One dated user action.
#[derive(Debug, Clone)]
pub(crate) struct Activity {
    pub(crate) user_id: String,
    pub(crate) kind: ActivityKind,
    pub(crate) at: DateTime<Utc>,
    /// Percentage of a quiz submission.
    pub(crate) percentage: Option<f64>,
}

/// Users, tokens, content, quizzes, submissions and activity.
#[derive(Debug)]
pub(crate) struct Store {
    pub(crate) accounts: HashMap<String, Account>,
    /// Lowercase email to user id.
    pub(crate) emails: HashMap<String, String>,
    next_user_number: u64,
    pub(crate) tokens: TokenTable,
    pub(crate) access_token_lifetime: Duration,
    pub(crate) refresh_token_lifetime: Duration,
    pub(crate) refresh_count: usize,
    /// Known course ids: the demo course and every `course_id` used.
    pub(crate) courses: BTreeSet<String>,
    pub(crate) contents: Vec<Content>,
    /// Quizzes with their correct answers, by id.
    pub(crate) quizzes: HashMap<String, Quiz>,
    pub(crate) submissions: Vec<Submission>,
    /// Achievements by user id, each name at most once per user.
    pub(crate) achievements: HashMap<String, Vec<Achievement>>,
    pub(crate) activity: Vec<Activity>,
    pub(crate) idempotency: IdempotencyStore,
}

impl Store {
    /// Creates a store holding the demo accounts and the demo course.
    pub(crate) fn new(access_token_lifetime: Duration, refresh_token_lifetime: Duration) -> Self {
        let mut store = Self {
            accounts: HashMap::new(),
            emails: HashMap::new(),
            next_user_number: 1,
            tokens: TokenTable::default(),
            access_token_lifetime,
            refresh_token_lifetime,
            refresh_count: 0,
            courses: BTreeSet::from([DEMO_COURSE_ID.to_owned()]),
            contents: Vec::new(),
            quizzes: HashMap::new(),
            submissions: Vec::new(),
            achievements: HashMap::new(),
            activity: Vec::new(),
            idempotency: IdempotencyStore::default(),
        };
        let demo_accounts = [
            (
                "student@example.com",
                "StudentPass123!",
                "Demo Student",
                Role::Student,
                Some(7),
            ),
            (
                "teacher@example.com",
                "TeacherPass123!",
                "Demo Teacher",
                Role::Teacher,
                None,
            ),
            (
                "test@example.com",
                "TestPass123!",
                "Test Teacher",
                Role::Teacher,
                None,
            ),
        ];
        for (email, password, name, role, grade_level) in demo_accounts {
            store.add_account(email, password, name, role, grade_level);
        }
        store
    }

    /// Adds an account with the next id `user-<n>`. The caller checks that
    /// the email is free.
    pub(crate) fn add_account(
        &mut self,
        email: &str,
        password: &str,
        name: &str,
        role: Role,
        grade_level: Option<u8>,
    ) -> User {
        let id = format!("user-{}", self.next_user_number);
        self.next_user_number += 1;
        let user = User {
            id: id.clone(),
            email: email.to_owned(),
            name: name.to_owned(),
            role,
            grade_level,
            created_at: Some(Utc::now()),
        };
        self.emails.insert(email.to_ascii_lowercase(), id.clone());
        self.accounts.insert(
            id,
            Account {
                user: user.clone(),
                password: password.to_owned(),
            },
        );
        user
    }

    /// Returns the account registered under `email`, compared without
    /// regard to case.
    pub(crate) fn account_by_email(&self, email: &str) -> Option<&Account> {
        let id = self.emails.get(&email.to_ascii_lowercase())?;
        self.accounts.get(id)
    }

    /// Records a user action at the current time.
    pub(crate) fn record_activity(
        &mut self,
        user_id: &str,
        kind: ActivityKind,
        percentage: Option<f64>,
    ) {
        self.activity.push(Activity {
            user_id: user_id.to_owned(),
            kind,
            at: Utc::now(),
            percentage,
        });
    }

    /// Returns the course id for a request's optional `course_id`, filing a
    /// missing one under the demo course, and remembers it as known.
    pub(crate) fn file_under_course(&mut self, course_id: Option<&str>) -> String {
        let course_id = course_id
            .filter(|id| !id.is_empty())
            .unwrap_or(DEMO_COURSE_ID)
            .to_owned();
        self.courses.insert(course_id.clone());
        course_id
    }

    /// Grants `name` to a user unless they already have it, returning
    /// whether it was newly granted.
    pub(crate) fn grant_achievement(&mut self, user_id: &str, name: &str) -> bool {
        let earned = self.achievements.entry(user_id.to_owned()).or_default();
        if earned.iter().any(|achievement| achievement.name == name) {
            return false;
        }
        earned.push(Achievement {
            name: name.to_owned(),
            earned_at: Utc::now(),
        });
        true
    }
}
