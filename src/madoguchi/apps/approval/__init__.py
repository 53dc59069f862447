"""Internal e-approval (電子決裁): a document drafted by an official, approved in turn by officials
of the roles its route names, each approval their own PAdES signature, and sealed by the body
when the last one approves. ``service`` holds the rules, ``pages`` the staff pages."""
