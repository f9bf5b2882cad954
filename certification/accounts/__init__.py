"""Sign-in hardening shared by every role (issue 13, DESIGN §7).

- `addresses`: the client address, as the trusted proxies report it;
- `models`: expiring, hashed API tokens tied to the password; sign-in events for limits;
- `middleware`: staff/admin idle timeout and the TOTP second factor;
- `views`: second-factor enrolment, verification and recovery codes.
"""
