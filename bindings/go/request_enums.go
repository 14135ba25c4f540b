package oidc

/*
#include <oidc.h>
*/
import "C"

import "strconv"

// The enums of liboidc's request object, mirrored from oidc.h (the values come from the header;
// TestRequestEnumsMatchHeader checks that every OIDC_OP_*, OIDC_PARAM_* and OIDC_FIELD_* has its
// constant here and back). oidc.h documents which operations take which parameters.

// Operation is a protocol operation (oidc_operation): what an OAuthRequest does.
type Operation uint32

// Param is a request parameter (oidc_param): strings (Set), lists (Add: ParamScope,
// ParamResource, ParamAudience) and integers (SetInt).
type Param uint32

// Field is a response field (oidc_field): strings (OAuthResponse.Lookup / String) and integers
// (OAuthResponse.Int: FieldExpiresIn, FieldInterval, FieldHTTPStatus, FieldActive).
type Field uint32

// Operations, one per OIDC_OP_* value.
const (
	OpAuthorizationCode     Operation = C.OIDC_OP_AUTHORIZATION_CODE
	OpRefresh               Operation = C.OIDC_OP_REFRESH
	OpClientCredentials     Operation = C.OIDC_OP_CLIENT_CREDENTIALS
	OpTokenExchange         Operation = C.OIDC_OP_TOKEN_EXCHANGE
	OpJWTBearer             Operation = C.OIDC_OP_JWT_BEARER
	OpCustomGrant           Operation = C.OIDC_OP_CUSTOM_GRANT
	OpDeviceAuthorization   Operation = C.OIDC_OP_DEVICE_AUTHORIZATION
	OpDevicePoll            Operation = C.OIDC_OP_DEVICE_POLL
	OpCIBARequest           Operation = C.OIDC_OP_CIBA_REQUEST
	OpCIBAPoll              Operation = C.OIDC_OP_CIBA_POLL
	OpIntrospect            Operation = C.OIDC_OP_INTROSPECT
	OpRevoke                Operation = C.OIDC_OP_REVOKE
	OpUserInfo              Operation = C.OIDC_OP_USERINFO
	OpPushedAuthorization   Operation = C.OIDC_OP_PUSHED_AUTHORIZATION
	OpAuthorizationURL      Operation = C.OIDC_OP_AUTHORIZATION_URL
	OpEndSessionURL         Operation = C.OIDC_OP_END_SESSION_URL
	OpAuthorizationResponse Operation = C.OIDC_OP_AUTHORIZATION_RESPONSE
	OpValidateIDToken       Operation = C.OIDC_OP_VALIDATE_ID_TOKEN
	OpRegister              Operation = C.OIDC_OP_REGISTER
	OpRegistrationRead      Operation = C.OIDC_OP_REGISTRATION_READ
	OpRegistrationUpdate    Operation = C.OIDC_OP_REGISTRATION_UPDATE
	OpRegistrationDelete    Operation = C.OIDC_OP_REGISTRATION_DELETE
	OpResource              Operation = C.OIDC_OP_RESOURCE
	OpEndpoint              Operation = C.OIDC_OP_ENDPOINT
	OpValidateLogoutToken   Operation = C.OIDC_OP_VALIDATE_LOGOUT_TOKEN
	OpVerifyJWS             Operation = C.OIDC_OP_VERIFY_JWS
	OpDecrypt               Operation = C.OIDC_OP_DECRYPT
)

var operationNames = map[Operation]string{
	OpAuthorizationCode:     "AUTHORIZATION_CODE",
	OpRefresh:               "REFRESH",
	OpClientCredentials:     "CLIENT_CREDENTIALS",
	OpTokenExchange:         "TOKEN_EXCHANGE",
	OpJWTBearer:             "JWT_BEARER",
	OpCustomGrant:           "CUSTOM_GRANT",
	OpDeviceAuthorization:   "DEVICE_AUTHORIZATION",
	OpDevicePoll:            "DEVICE_POLL",
	OpCIBARequest:           "CIBA_REQUEST",
	OpCIBAPoll:              "CIBA_POLL",
	OpIntrospect:            "INTROSPECT",
	OpRevoke:                "REVOKE",
	OpUserInfo:              "USERINFO",
	OpPushedAuthorization:   "PUSHED_AUTHORIZATION",
	OpAuthorizationURL:      "AUTHORIZATION_URL",
	OpEndSessionURL:         "END_SESSION_URL",
	OpAuthorizationResponse: "AUTHORIZATION_RESPONSE",
	OpValidateIDToken:       "VALIDATE_ID_TOKEN",
	OpRegister:              "REGISTER",
	OpRegistrationRead:      "REGISTRATION_READ",
	OpRegistrationUpdate:    "REGISTRATION_UPDATE",
	OpRegistrationDelete:    "REGISTRATION_DELETE",
	OpResource:              "RESOURCE",
	OpEndpoint:              "ENDPOINT",
	OpValidateLogoutToken:   "VALIDATE_LOGOUT_TOKEN",
	OpVerifyJWS:             "VERIFY_JWS",
	OpDecrypt:               "DECRYPT",
}

// Parameters, one per OIDC_PARAM_* value.
const (
	ParamCode                    Param = C.OIDC_PARAM_CODE
	ParamRedirectURI             Param = C.OIDC_PARAM_REDIRECT_URI
	ParamCodeVerifier            Param = C.OIDC_PARAM_CODE_VERIFIER
	ParamNonce                   Param = C.OIDC_PARAM_NONCE
	ParamRefreshToken            Param = C.OIDC_PARAM_REFRESH_TOKEN
	ParamSubjectToken            Param = C.OIDC_PARAM_SUBJECT_TOKEN
	ParamSubjectTokenType        Param = C.OIDC_PARAM_SUBJECT_TOKEN_TYPE
	ParamActorToken              Param = C.OIDC_PARAM_ACTOR_TOKEN
	ParamActorTokenType          Param = C.OIDC_PARAM_ACTOR_TOKEN_TYPE
	ParamRequestedTokenType      Param = C.OIDC_PARAM_REQUESTED_TOKEN_TYPE
	ParamAssertion               Param = C.OIDC_PARAM_ASSERTION
	ParamSubject                 Param = C.OIDC_PARAM_SUBJECT
	ParamGrantType               Param = C.OIDC_PARAM_GRANT_TYPE
	ParamToken                   Param = C.OIDC_PARAM_TOKEN
	ParamTokenTypeHint           Param = C.OIDC_PARAM_TOKEN_TYPE_HINT
	ParamAccessToken             Param = C.OIDC_PARAM_ACCESS_TOKEN
	ParamTokenType               Param = C.OIDC_PARAM_TOKEN_TYPE
	ParamExpectedSub             Param = C.OIDC_PARAM_EXPECTED_SUB
	ParamDeviceCode              Param = C.OIDC_PARAM_DEVICE_CODE
	ParamAuthReqID               Param = C.OIDC_PARAM_AUTH_REQ_ID
	ParamMetadata                Param = C.OIDC_PARAM_METADATA
	ParamInitialAccessToken      Param = C.OIDC_PARAM_INITIAL_ACCESS_TOKEN
	ParamRegistrationAccessToken Param = C.OIDC_PARAM_REGISTRATION_ACCESS_TOKEN
	ParamRegistrationClientURI   Param = C.OIDC_PARAM_REGISTRATION_CLIENT_URI
	ParamMethod                  Param = C.OIDC_PARAM_METHOD
	ParamURL                     Param = C.OIDC_PARAM_URL
	ParamBody                    Param = C.OIDC_PARAM_BODY
	ParamContentType             Param = C.OIDC_PARAM_CONTENT_TYPE
	ParamResponse                Param = C.OIDC_PARAM_RESPONSE
	ParamExpectedState           Param = C.OIDC_PARAM_EXPECTED_STATE
	ParamIDToken                 Param = C.OIDC_PARAM_ID_TOKEN
	ParamIDTokenHint             Param = C.OIDC_PARAM_ID_TOKEN_HINT
	ParamPostLogoutRedirectURI   Param = C.OIDC_PARAM_POST_LOGOUT_REDIRECT_URI
	ParamState                   Param = C.OIDC_PARAM_STATE
	ParamResponseType            Param = C.OIDC_PARAM_RESPONSE_TYPE
	ParamResponseMode            Param = C.OIDC_PARAM_RESPONSE_MODE
	ParamCodeChallenge           Param = C.OIDC_PARAM_CODE_CHALLENGE
	ParamRequestObject           Param = C.OIDC_PARAM_REQUEST_OBJECT
	ParamRequestURI              Param = C.OIDC_PARAM_REQUEST_URI
	ParamLoginHint               Param = C.OIDC_PARAM_LOGIN_HINT
	ParamBindingMessage          Param = C.OIDC_PARAM_BINDING_MESSAGE
	ParamEndpointName            Param = C.OIDC_PARAM_ENDPOINT_NAME
	ParamLogoutToken             Param = C.OIDC_PARAM_LOGOUT_TOKEN
	ParamJWS                     Param = C.OIDC_PARAM_JWS
	ParamPayload                 Param = C.OIDC_PARAM_PAYLOAD
	ParamJWE                     Param = C.OIDC_PARAM_JWE
	ParamScope                   Param = C.OIDC_PARAM_SCOPE
	ParamResource                Param = C.OIDC_PARAM_RESOURCE
	ParamAudience                Param = C.OIDC_PARAM_AUDIENCE
	ParamMaxAge                  Param = C.OIDC_PARAM_MAX_AGE
	ParamDeadlineMS              Param = C.OIDC_PARAM_DEADLINE_MS
	ParamIntervalSecs            Param = C.OIDC_PARAM_INTERVAL_SECS
	ParamExpiresInSecs           Param = C.OIDC_PARAM_EXPIRES_IN_SECS
	ParamSignedResponse          Param = C.OIDC_PARAM_SIGNED_RESPONSE
	ParamUseCache                Param = C.OIDC_PARAM_USE_CACHE
	ParamNoStateSent             Param = C.OIDC_PARAM_NO_STATE_SENT
	ParamNowSecs                 Param = C.OIDC_PARAM_NOW_SECS
)

var paramNames = map[Param]string{
	ParamCode:                    "CODE",
	ParamRedirectURI:             "REDIRECT_URI",
	ParamCodeVerifier:            "CODE_VERIFIER",
	ParamNonce:                   "NONCE",
	ParamRefreshToken:            "REFRESH_TOKEN",
	ParamSubjectToken:            "SUBJECT_TOKEN",
	ParamSubjectTokenType:        "SUBJECT_TOKEN_TYPE",
	ParamActorToken:              "ACTOR_TOKEN",
	ParamActorTokenType:          "ACTOR_TOKEN_TYPE",
	ParamRequestedTokenType:      "REQUESTED_TOKEN_TYPE",
	ParamAssertion:               "ASSERTION",
	ParamSubject:                 "SUBJECT",
	ParamGrantType:               "GRANT_TYPE",
	ParamToken:                   "TOKEN",
	ParamTokenTypeHint:           "TOKEN_TYPE_HINT",
	ParamAccessToken:             "ACCESS_TOKEN",
	ParamTokenType:               "TOKEN_TYPE",
	ParamExpectedSub:             "EXPECTED_SUB",
	ParamDeviceCode:              "DEVICE_CODE",
	ParamAuthReqID:               "AUTH_REQ_ID",
	ParamMetadata:                "METADATA",
	ParamInitialAccessToken:      "INITIAL_ACCESS_TOKEN",
	ParamRegistrationAccessToken: "REGISTRATION_ACCESS_TOKEN",
	ParamRegistrationClientURI:   "REGISTRATION_CLIENT_URI",
	ParamMethod:                  "METHOD",
	ParamURL:                     "URL",
	ParamBody:                    "BODY",
	ParamContentType:             "CONTENT_TYPE",
	ParamResponse:                "RESPONSE",
	ParamExpectedState:           "EXPECTED_STATE",
	ParamIDToken:                 "ID_TOKEN",
	ParamIDTokenHint:             "ID_TOKEN_HINT",
	ParamPostLogoutRedirectURI:   "POST_LOGOUT_REDIRECT_URI",
	ParamState:                   "STATE",
	ParamResponseType:            "RESPONSE_TYPE",
	ParamResponseMode:            "RESPONSE_MODE",
	ParamCodeChallenge:           "CODE_CHALLENGE",
	ParamRequestObject:           "REQUEST_OBJECT",
	ParamRequestURI:              "REQUEST_URI",
	ParamLoginHint:               "LOGIN_HINT",
	ParamBindingMessage:          "BINDING_MESSAGE",
	ParamEndpointName:            "ENDPOINT_NAME",
	ParamLogoutToken:             "LOGOUT_TOKEN",
	ParamJWS:                     "JWS",
	ParamPayload:                 "PAYLOAD",
	ParamJWE:                     "JWE",
	ParamScope:                   "SCOPE",
	ParamResource:                "RESOURCE",
	ParamAudience:                "AUDIENCE",
	ParamMaxAge:                  "MAX_AGE",
	ParamDeadlineMS:              "DEADLINE_MS",
	ParamIntervalSecs:            "INTERVAL_SECS",
	ParamExpiresInSecs:           "EXPIRES_IN_SECS",
	ParamSignedResponse:          "SIGNED_RESPONSE",
	ParamUseCache:                "USE_CACHE",
	ParamNoStateSent:             "NO_STATE_SENT",
	ParamNowSecs:                 "NOW_SECS",
}

// Response fields, one per OIDC_FIELD_* value.
const (
	FieldAccessToken             Field = C.OIDC_FIELD_ACCESS_TOKEN
	FieldTokenType               Field = C.OIDC_FIELD_TOKEN_TYPE
	FieldRefreshToken            Field = C.OIDC_FIELD_REFRESH_TOKEN
	FieldIDToken                 Field = C.OIDC_FIELD_ID_TOKEN
	FieldScope                   Field = C.OIDC_FIELD_SCOPE
	FieldIssuedTokenType         Field = C.OIDC_FIELD_ISSUED_TOKEN_TYPE
	FieldDeviceCode              Field = C.OIDC_FIELD_DEVICE_CODE
	FieldUserCode                Field = C.OIDC_FIELD_USER_CODE
	FieldVerificationURI         Field = C.OIDC_FIELD_VERIFICATION_URI
	FieldVerificationURIComplete Field = C.OIDC_FIELD_VERIFICATION_URI_COMPLETE
	FieldAuthReqID               Field = C.OIDC_FIELD_AUTH_REQ_ID
	FieldRequestURI              Field = C.OIDC_FIELD_REQUEST_URI
	FieldURL                     Field = C.OIDC_FIELD_URL
	FieldCode                    Field = C.OIDC_FIELD_CODE
	FieldState                   Field = C.OIDC_FIELD_STATE
	FieldNonce                   Field = C.OIDC_FIELD_NONCE
	FieldCodeVerifier            Field = C.OIDC_FIELD_CODE_VERIFIER
	FieldCodeChallenge           Field = C.OIDC_FIELD_CODE_CHALLENGE
	FieldIss                     Field = C.OIDC_FIELD_ISS
	FieldSub                     Field = C.OIDC_FIELD_SUB
	FieldClientID                Field = C.OIDC_FIELD_CLIENT_ID
	FieldClientSecret            Field = C.OIDC_FIELD_CLIENT_SECRET
	FieldRegistrationAccessToken Field = C.OIDC_FIELD_REGISTRATION_ACCESS_TOKEN
	FieldRegistrationClientURI   Field = C.OIDC_FIELD_REGISTRATION_CLIENT_URI
	FieldError                   Field = C.OIDC_FIELD_ERROR
	FieldErrorDescription        Field = C.OIDC_FIELD_ERROR_DESCRIPTION
	FieldErrorURI                Field = C.OIDC_FIELD_ERROR_URI
	FieldContentType             Field = C.OIDC_FIELD_CONTENT_TYPE
	FieldWWWAuthenticate         Field = C.OIDC_FIELD_WWW_AUTHENTICATE
	FieldSID                     Field = C.OIDC_FIELD_SID
	FieldJTI                     Field = C.OIDC_FIELD_JTI
	FieldPayload                 Field = C.OIDC_FIELD_PAYLOAD
	FieldProtectedHeader         Field = C.OIDC_FIELD_PROTECTED_HEADER
	FieldExpiresIn               Field = C.OIDC_FIELD_EXPIRES_IN
	FieldInterval                Field = C.OIDC_FIELD_INTERVAL
	FieldHTTPStatus              Field = C.OIDC_FIELD_HTTP_STATUS
	FieldActive                  Field = C.OIDC_FIELD_ACTIVE
)

var fieldNames = map[Field]string{
	FieldAccessToken:             "ACCESS_TOKEN",
	FieldTokenType:               "TOKEN_TYPE",
	FieldRefreshToken:            "REFRESH_TOKEN",
	FieldIDToken:                 "ID_TOKEN",
	FieldScope:                   "SCOPE",
	FieldIssuedTokenType:         "ISSUED_TOKEN_TYPE",
	FieldDeviceCode:              "DEVICE_CODE",
	FieldUserCode:                "USER_CODE",
	FieldVerificationURI:         "VERIFICATION_URI",
	FieldVerificationURIComplete: "VERIFICATION_URI_COMPLETE",
	FieldAuthReqID:               "AUTH_REQ_ID",
	FieldRequestURI:              "REQUEST_URI",
	FieldURL:                     "URL",
	FieldCode:                    "CODE",
	FieldState:                   "STATE",
	FieldNonce:                   "NONCE",
	FieldCodeVerifier:            "CODE_VERIFIER",
	FieldCodeChallenge:           "CODE_CHALLENGE",
	FieldIss:                     "ISS",
	FieldSub:                     "SUB",
	FieldClientID:                "CLIENT_ID",
	FieldClientSecret:            "CLIENT_SECRET",
	FieldRegistrationAccessToken: "REGISTRATION_ACCESS_TOKEN",
	FieldRegistrationClientURI:   "REGISTRATION_CLIENT_URI",
	FieldError:                   "ERROR",
	FieldErrorDescription:        "ERROR_DESCRIPTION",
	FieldErrorURI:                "ERROR_URI",
	FieldContentType:             "CONTENT_TYPE",
	FieldWWWAuthenticate:         "WWW_AUTHENTICATE",
	FieldSID:                     "SID",
	FieldJTI:                     "JTI",
	FieldPayload:                 "PAYLOAD",
	FieldProtectedHeader:         "PROTECTED_HEADER",
	FieldExpiresIn:               "EXPIRES_IN",
	FieldInterval:                "INTERVAL",
	FieldHTTPStatus:              "HTTP_STATUS",
	FieldActive:                  "ACTIVE",
}

func enumName[T ~uint32](names map[T]string, v T) string {
	if n, ok := names[v]; ok {
		return n
	}
	return strconv.FormatUint(uint64(v), 10)
}

// String returns the oidc.h name without prefix ("REFRESH"), or the number for an unknown value.
func (o Operation) String() string { return enumName(operationNames, o) }

// String returns the oidc.h name without prefix ("REFRESH_TOKEN"), or the number.
func (p Param) String() string { return enumName(paramNames, p) }

// String returns the oidc.h name without prefix ("ACCESS_TOKEN"), or the number.
func (f Field) String() string { return enumName(fieldNames, f) }
