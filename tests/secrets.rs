//! No token or password reaches `Debug` output, the log or an error message.

mod common;

use secrecy::{ExposeSecret, SecretString};
use toolboxai::{
    APIError, AnalyticsQuery, Answer, Client, ContentRequest, LoginRequest, NewQuestion, NewQuiz,
    QuestionType, RegisterRequest, Role, Tokens,
};

/// Password of the account the flow registers.
const NEW_PASSWORD: &str = "Registered-Secret-Pass-91!";
/// A wrong password for the failed login.
const WRONG_PASSWORD: &str = "Wrong-Secret-Pass-37!";

/// Returns the access token and, when stored, the refresh token of a
/// logged-in client.
fn session_secrets(client: &Client) -> Vec<String> {
    let tokens = client.auth().tokens().expect("client is logged in");
    let mut secrets = vec![tokens.access_token.expose_secret().to_owned()];
    if let Some(refresh) = tokens.refresh_token {
        secrets.push(refresh.expose_secret().to_owned());
    }
    secrets
}

/// Asserts that `text` contains none of `secrets`, one assert per secret.
fn assert_no_secret(case: &str, text: &str, secrets: &[String]) {
    for (number, secret) in secrets.iter().enumerate() {
        assert!(!secret.is_empty(), "{case}: secret {number} is empty");
        assert!(
            !text.contains(secret.as_str()),
            "{case}: contains secret {number}"
        );
    }
}

#[tokio::test]
async fn debug_output_hides_secrets() {
    let (_server, client) = common::start_as(common::STUDENT).await;
    let tokens = client.auth().tokens().expect("client is logged in");
    let mut secrets = session_secrets(&client);
    secrets.push(common::STUDENT.1.to_owned());
    secrets.push(NEW_PASSWORD.to_owned());

    let register = RegisterRequest::new("new@example.com", NEW_PASSWORD, "New", Role::Student);
    let login = LoginRequest {
        email: common::STUDENT.0.to_owned(),
        password: SecretString::from(common::STUDENT.1.to_owned()),
    };
    let restored = Tokens::new(secrets[0].clone(), Some(secrets[1].clone()));
    let cases = [
        ("Client", format!("{client:?}")),
        ("AuthManager", format!("{:?}", client.auth())),
        ("QuizManager", format!("{:?}", client.quizzes())),
        ("Tokens", format!("{tokens:?}")),
        ("Tokens::new", format!("{restored:?}")),
        ("RegisterRequest", format!("{register:?}")),
        ("LoginRequest", format!("{login:?}")),
        ("Client pretty", format!("{client:#?}")),
    ];
    for (case, text) in &cases {
        assert_no_secret(case, text, &secrets);
    }
}

#[tokio::test]
async fn debug_output_still_names_fields() {
    let (_server, client) = common::start_as(common::STUDENT).await;
    let tokens = format!("{:?}", client.auth().tokens().expect("client is logged in"));
    let register = format!(
        "{:?}",
        RegisterRequest::new("new@example.com", NEW_PASSWORD, "New", Role::Student)
    );
    assert!(tokens.contains("access_token"), "{tokens}");
    assert!(register.contains("new@example.com"), "{register}");
}

/// Runs register, login, content generation, quiz creation, submission, a
/// refresh forced by expired tokens, progress and analytics, with every log
/// level captured. Returns the log and every secret that was in use.
async fn captured_quickstart() -> (String, Vec<String>) {
    let captured = common::CapturedLog::default();
    // The test runtime has one thread, so the mock's tasks log here too.
    let _guard = captured.install();

    let (server, teacher) = common::start().await;
    let student = Client::builder()
        .base_url(server.url())
        .build()
        .expect("client builds");
    let mut secrets = vec![
        NEW_PASSWORD.to_owned(),
        common::TEACHER.1.to_owned(),
        common::STUDENT.1.to_owned(),
    ];

    let registration = RegisterRequest::new(
        "new.student@example.com",
        NEW_PASSWORD,
        "New",
        Role::Student,
    )
    .grade_level(7);
    teacher
        .auth()
        .register(&registration)
        .await
        .expect("registration succeeds");
    let registered = Client::builder()
        .base_url(server.url())
        .build()
        .expect("client builds");
    registered
        .auth()
        .login("new.student@example.com", NEW_PASSWORD)
        .await
        .expect("registered account logs in");
    secrets.extend(session_secrets(&registered));
    common::login(&teacher, common::TEACHER).await;
    common::login(&student, common::STUDENT).await;
    secrets.extend(session_secrets(&teacher));
    secrets.extend(session_secrets(&student));

    teacher
        .content()
        .generate(&ContentRequest::lesson("Mathematics", 7).include_quiz(true))
        .await
        .expect("content is generated");
    let question = NewQuestion::new(QuestionType::MultipleChoice, "What is 2+2?", "4", 1)
        .options(["3", "4", "5"]);
    let quiz = teacher
        .quizzes()
        .create(&NewQuiz::new("Secrets quiz", "Mathematics", vec![question]))
        .await
        .expect("quiz is created");
    student
        .quizzes()
        .submit(&quiz.id, vec![Answer::new("q1", "4")], 30)
        .await
        .expect("quiz is submitted");

    server.expire_access_tokens();
    student
        .progress()
        .course("course-123")
        .await
        .expect("progress is read after a refresh");
    teacher
        .progress()
        .analytics(&AnalyticsQuery::default())
        .await
        .expect("analytics are read after a refresh");
    assert_eq!(server.refresh_count(), 2, "both clients refreshed");
    secrets.extend(session_secrets(&teacher));
    secrets.extend(session_secrets(&student));
    (captured.text(), secrets)
}

#[tokio::test]
async fn quickstart_log_has_no_secrets() {
    let (log, secrets) = captured_quickstart().await;
    assert!(log.contains("toolboxai.request"), "client log is captured");
    assert!(
        log.contains("mock scored a quiz submission"),
        "mock log is captured"
    );
    assert_no_secret("log", &log, &secrets);
}

#[tokio::test]
async fn quickstart_log_has_no_bearer_value() {
    let (log, _) = captured_quickstart().await;
    assert!(!log.contains("Bearer ey"), "bearer header value in log");
}

#[tokio::test]
async fn failed_login_error_has_no_password() {
    let (_server, client) = common::start().await;
    let error = client
        .auth()
        .login(common::STUDENT.0, WRONG_PASSWORD)
        .await
        .expect_err("wrong password is rejected");
    assert!(
        matches!(error, APIError::Authentication(_)),
        "variant: {error:?}"
    );
    let secrets = [WRONG_PASSWORD.to_owned()];
    assert_no_secret("Display", &error.to_string(), &secrets);
    assert_no_secret("Debug", &format!("{error:?}"), &secrets);
}

/// Returns the error of a call made with expired tokens by a client that
/// does not refresh, and the tokens the client held.
async fn unauthorized_error() -> (APIError, Vec<String>) {
    let server = toolboxai::mock::MockServer::start()
        .await
        .expect("mock server starts");
    let client = Client::builder()
        .base_url(server.url())
        .auto_refresh(false)
        .build()
        .expect("client builds");
    common::login(&client, common::STUDENT).await;
    let secrets = session_secrets(&client);
    server.expire_access_tokens();
    let error = client
        .progress()
        .course("course-123")
        .await
        .expect_err("expired token is rejected");
    (error, secrets)
}

#[tokio::test]
async fn unauthorized_error_has_no_token() {
    let (error, secrets) = unauthorized_error().await;
    assert!(
        matches!(error, APIError::Authentication(_)),
        "variant: {error:?}"
    );
    assert_no_secret("Display", &error.to_string(), &secrets);
    assert_no_secret("Debug", &format!("{error:?}"), &secrets);
}

#[tokio::test]
async fn failed_refresh_error_has_no_token() {
    let (server, client) = common::start_as(common::STUDENT).await;
    let access = client
        .auth()
        .tokens()
        .expect("client is logged in")
        .access_token
        .expose_secret()
        .to_owned();
    let unknown_refresh = "unknown-refresh-secret-5521".to_owned();
    client
        .auth()
        .restore_tokens(Tokens::new(access.clone(), Some(unknown_refresh.clone())))
        .expect("tokens are restored");
    server.expire_access_tokens();

    let error = client
        .progress()
        .course("course-123")
        .await
        .expect_err("refresh with an unknown token fails");
    assert!(
        matches!(error, APIError::Authentication(_)),
        "variant: {error:?}"
    );
    let secrets = [access, unknown_refresh];
    assert_no_secret("Display", &error.to_string(), &secrets);
    assert_no_secret("Debug", &format!("{error:?}"), &secrets);
}
