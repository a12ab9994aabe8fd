provider "aws" {
  region = var.aws_region

  default_tags {
    tags = {
      "preview-environment-id" = var.environment
      "preview-service"        = var.service
    }
  }
}

locals {
  name = "preview-${var.service}-${var.environment}"
  host = "${var.environment}.${var.domain_name}"
}

# The object's version changes whenever a new zip is uploaded under the same
# key (latest.zip), which is what makes the function pick up new code; the
# code_version string alone would not change.
data "aws_s3_object" "code" {
  bucket = var.artifact_bucket
  key    = "${var.code_version}.zip"
}

resource "aws_iam_role" "function" {
  name = local.name
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}

# Only writing to its own, pre-created log group: no CreateLogGroup, no
# wildcard resources.
resource "aws_iam_role_policy" "logs" {
  name = "write-own-logs"
  role = aws_iam_role.function.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = "${aws_cloudwatch_log_group.function.arn}:*"
    }]
  })
}

# Reading exactly the one greeting object of this environment's data
# bucket, when the environment has a data stack.
resource "aws_iam_role_policy" "greeting" {
  count = var.greeting_bucket == "" ? 0 : 1

  name = "read-greeting"
  role = aws_iam_role.function.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["s3:GetObject"]
      Resource = "arn:aws:s3:::${var.greeting_bucket}/${var.greeting_key}"
    }]
  })
}

# Created before the function so Lambda never creates one without retention.
resource "aws_cloudwatch_log_group" "function" {
  name              = "/aws/lambda/${local.name}"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "handler" {
  function_name     = local.name
  role              = aws_iam_role.function.arn
  runtime           = "provided.al2023"
  architectures     = ["arm64"]
  handler           = "bootstrap"
  s3_bucket         = var.artifact_bucket
  s3_key            = "${var.code_version}.zip"
  s3_object_version = data.aws_s3_object.code.version_id
  timeout           = 10
  memory_size       = 128

  environment {
    # An empty bucket (no data stack) leaves the built-in greeting.
    variables = {
      PREVIEW_ENVIRONMENT_ID  = var.environment
      PREVIEW_GREETING_BUCKET = var.greeting_bucket
      PREVIEW_GREETING_KEY    = var.greeting_key
    }
  }

  depends_on = [aws_cloudwatch_log_group.function, aws_iam_role_policy.logs, aws_iam_role_policy.greeting]

  lifecycle {
    precondition {
      condition     = data.aws_s3_object.code.version_id != "" && data.aws_s3_object.code.version_id != "null"
      error_message = "The artifact bucket has no object versions: enable versioning on it so that a new zip redeploys the function."
    }
  }
}

resource "aws_api_gateway_rest_api" "this" {
  name        = local.name
  description = "Preview environment ${var.environment} of ${var.service}"

  endpoint_configuration {
    types = ["REGIONAL"]
  }
}

# Routes: GET / (the API's root resource) and GET /hello.
resource "aws_api_gateway_resource" "hello" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = "hello"
}

resource "aws_api_gateway_method" "root_get" {
  rest_api_id   = aws_api_gateway_rest_api.this.id
  resource_id   = aws_api_gateway_rest_api.this.root_resource_id
  http_method   = "GET"
  authorization = "NONE"
}

resource "aws_api_gateway_method" "hello_get" {
  rest_api_id   = aws_api_gateway_rest_api.this.id
  resource_id   = aws_api_gateway_resource.hello.id
  http_method   = "GET"
  authorization = "NONE"
}

resource "aws_api_gateway_integration" "root_get" {
  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = aws_api_gateway_rest_api.this.root_resource_id
  http_method             = aws_api_gateway_method.root_get.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = aws_lambda_function.handler.invoke_arn
}

resource "aws_api_gateway_integration" "hello_get" {
  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = aws_api_gateway_resource.hello.id
  http_method             = aws_api_gateway_method.hello_get.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = aws_lambda_function.handler.invoke_arn
}

# A deployment is a snapshot: it must be replaced whenever a route or its
# integration changes, or the stage keeps serving the old routes.
resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id

  triggers = {
    routes = sha1(jsonencode([
      aws_api_gateway_resource.hello,
      aws_api_gateway_method.root_get,
      aws_api_gateway_method.hello_get,
      aws_api_gateway_integration.root_get,
      aws_api_gateway_integration.hello_get,
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_stage" "this" {
  rest_api_id   = aws_api_gateway_rest_api.this.id
  deployment_id = aws_api_gateway_deployment.this.id
  stage_name    = var.environment
}

# Only this API's stage may invoke the function, and only for GET routes.
resource "aws_lambda_permission" "api_gateway" {
  statement_id  = "AllowInvokeFromThisApi"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.handler.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.this.execution_arn}/${aws_api_gateway_stage.this.stage_name}/GET/*"
}

# A specific (not wildcard) regional custom domain per environment, using the
# manager's wildcard certificate; see README.md for the request path.
resource "aws_api_gateway_domain_name" "this" {
  domain_name              = local.host
  regional_certificate_arn = var.certificate_arn
  security_policy          = "TLS_1_2"

  endpoint_configuration {
    types = ["REGIONAL"]
  }
}

resource "aws_api_gateway_base_path_mapping" "this" {
  api_id      = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.this.stage_name
  domain_name = aws_api_gateway_domain_name.this.domain_name

  # The mapping is what puts the API on the environment's host. Before the
  # permission exists every request there is a 500 from API Gateway, so
  # the host goes live only once the function may be invoked (and, on
  # destroy, stops serving before the permission goes).
  depends_on = [aws_lambda_permission.api_gateway]
}

resource "aws_route53_record" "this" {
  zone_id = var.hosted_zone_id
  name    = aws_api_gateway_domain_name.this.domain_name
  type    = "A"

  alias {
    name                   = aws_api_gateway_domain_name.this.regional_domain_name
    zone_id                = aws_api_gateway_domain_name.this.regional_zone_id
    evaluate_target_health = false
  }
}
