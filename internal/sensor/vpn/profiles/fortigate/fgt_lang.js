var fgt_lang = {"sslvpn_login_permission_denied":"Permission denied.","sslvpn_login_fail":"Error: Permission denied.","login":"Login","username":"Username","password":"Password"};
