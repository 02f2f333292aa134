XCOM_RETURN_KEY = "return_value"
